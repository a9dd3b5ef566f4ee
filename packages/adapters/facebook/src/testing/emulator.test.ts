import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { publishParams, useFacebook, video } from '../test/harness.ts'

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

describe('the emulator’s video endpoints', () => {
  it('refuses a reel phase outside the spec’s enum', async () => {
    const { call } = await facebook.connect()
    const answer = await graph(`/${call.accountId}/video_reels`, {
      method: 'POST',
      token: call.accessToken,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ upload_phase: 'begin' }),
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error?.message).toMatch(/upload_phase must be one of \{.*START/)
    expect(facebook.emulator.videos()).toEqual([])
  })

  it('refuses bytes sent to an upload session with the token anywhere but an OAuth header', async () => {
    const { call } = await facebook.connect()
    const started = await graph(
      '/facebook-test-app/uploads?file_length=4&file_type=video%2Fmp4&file_name=a.mp4',
      { method: 'POST', token: call.accessToken },
    )
    const session = (started.body as { id?: string }).id
    expect(session).toMatch(/^upload:/)
    const answer = await graph(`/${session}?access_token=${call.accessToken}`, {
      method: 'POST',
      token: call.accessToken,
      headers: { file_offset: '0' },
      body: new Uint8Array(4),
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error?.code).toBe(190)
  })

  it('answers a video’s status with only the fields the VideoStatus* specs declare', async () => {
    const { adapter, call } = await facebook.connect()
    facebook.emulator.deferCompletion({ afterSeconds: 3600, outcome: 'published' })
    await adapter.publish(publishParams(call, { text: 'Status', media: [video()] }).params)
    const [made] = facebook.emulator.videos()
    const read = await graph(`/${made?.id}?fields=status`, {
      method: 'GET',
      token: call.accessToken,
    })
    const status = (read.body as { status: Record<string, unknown> }).status
    const fieldsOf = (name: string) =>
      (
        JSON.parse(
          readFileSync(new URL(`../../specs/meta/${name}.json`, import.meta.url), 'utf8'),
        ) as { fields: { name: string }[] }
      ).fields.map((field) => field.name)
    expect(fieldsOf('VideoStatus')).toEqual(expect.arrayContaining(Object.keys(status)))
    const phases = {
      uploading_phase: 'VideoStatusUploadingPhase',
      processing_phase: 'VideoStatusProcessingPhase',
      publishing_phase: 'VideoStatusPublishingPhase',
    } as const
    for (const [field, spec] of Object.entries(phases)) {
      expect(fieldsOf(spec)).toEqual(
        expect.arrayContaining(Object.keys(status[field] as Record<string, unknown>)),
      )
    }
    expect(status).toMatchObject({ video_status: 'processing' })
  })
})
