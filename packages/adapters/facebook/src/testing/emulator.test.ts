import { describe, expect, it } from 'vitest'
import { useFacebook } from '../test/harness.ts'

const facebook = useFacebook()

async function graph(path: string, init: RequestInit & { token: string }) {
  const response = await fetch(`https://graph.facebook.com/v24.0${path}`, {
    ...init,
    headers: { authorization: `Bearer ${init.token}`, ...init.headers },
  })
  return {
    status: response.status,
    body: (await response.json()) as { error?: Record<string, unknown> },
  }
}

describe('the emulator checks every request against Meta’s node specs', () => {
  it('refuses a misspelt parameter on the feed edge as Graph does, naming the right one', async () => {
    const { call } = await facebook.connect()
    const answer = await graph(`/${call.accountId}/feed`, {
      method: 'POST',
      token: call.accessToken,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messsage: 'Hello', published: true }),
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toMatchObject({
      code: 100,
      type: 'OAuthException',
      message: expect.stringContaining('did you mean message?'),
    })
    expect(await facebook.emulator.countPosts(call.accountId)).toBe(0)
  })

  it('refuses a value outside the enum of a photo upload', async () => {
    const { call } = await facebook.connect()
    const form = new FormData()
    form.set('published', 'false')
    form.set('unpublished_content_type', 'DRAFTS')
    form.set('source', new Blob([new Uint8Array(10)], { type: 'image/jpeg' }), 'a.jpg')
    const answer = await graph(`/${call.accountId}/photos`, {
      method: 'POST',
      token: call.accessToken,
      body: form,
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toMatchObject({
      code: 100,
      message: expect.stringMatching(/unpublished_content_type must be one of \{.*DRAFT,/),
    })
    expect(facebook.emulator.photos().size).toBe(0)
  })

  it('refuses a field the node does not have in a read', async () => {
    const { call } = await facebook.connect()
    const answer = await graph(`/${call.accountId}/published_posts?fields=id,mesage`, {
      method: 'GET',
      token: call.accessToken,
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error?.message).toContain('nonexisting field (mesage)')
  })
})
