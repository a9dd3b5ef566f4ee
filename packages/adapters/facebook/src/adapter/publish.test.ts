import { isAdapterError } from '@post-scheduler/adapter-core'
import { describe, expect, it } from 'vitest'
import { expectPublished, photo, publishParams, useFacebook } from '../test/harness.ts'

const facebook = useFacebook()

describe('connecting: the person’s Pages and their tokens', () => {
  it('lists every Page the person manages, each with its own Page token', async () => {
    const { accounts, tokens } = await facebook.connect()
    expect(accounts.map((account) => [account.kind, account.name])).toEqual([
      ['page', 'Emulated Bakery'],
      ['page', 'Emulated Books'],
    ])
    const pageTokens = accounts.map((account) => account.accessToken)
    expect(new Set([...pageTokens, tokens.accessToken]).size).toBe(3)
    expect(accounts[0]).toMatchObject({
      username: 'emulatedbakery',
      profileURL: expect.any(String),
    })
  })

  it('stores the long-lived user token, about 60 days, with the permissions granted', async () => {
    const { tokens } = await facebook.connect()
    const days = ((tokens.accessTokenExpiresAt?.getTime() ?? 0) - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(59)
    expect(tokens.scopes).toContain('pages_manage_posts')
    expect(tokens.refreshToken).toBeUndefined()
  })

  it('publishes only with the Page token: the user token is refused as a missing permission', async () => {
    const { adapter, tokens, call } = await facebook.connect()
    const { params } = publishParams(
      { accessToken: tokens.accessToken, accountId: call.accountId },
      { text: 'With the wrong token' },
    )
    const error = await adapter.publish(params).catch((thrown: unknown) => thrown)
    expect(isAdapterError(error, 'RECONNECT_REQUIRED') && error.reason).toBe(
      'insufficient_permissions',
    )
  })

  it('revoking through the permissions edge ends the Page tokens too', async () => {
    const { adapter, tokens, call } = await facebook.connect()
    await adapter.revokeToken({ token: tokens.accessToken })
    const { params } = publishParams(call, { text: 'After revoke' })
    await expect(adapter.publish(params)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' })
  })
})

describe('publishing photos', () => {
  it('uploads each photo unpublished, then attaches them all to one feed post', async () => {
    const { adapter, call } = await facebook.connect()
    const { params, saved } = publishParams(call, {
      text: 'Three loaves',
      media: [photo(1), photo(2), photo(3)],
      firstComment: 'Recipe in the comments',
    })
    const published = await adapter.publish(params)
    const [post] = facebook.emulator.posts()
    expect(post?.photoIds).toHaveLength(3)
    expect(post?.comments.map((comment) => comment.message)).toEqual(['Recipe in the comments'])
    expect(published).toMatchObject({
      platformPostId: post?.id,
      firstCommentId: expect.any(String),
    })
    for (const id of post?.photoIds ?? []) {
      expect(facebook.emulator.photos().get(id)).toMatchObject({
        published: false,
        attachedTo: post?.id,
      })
    }
    // Each photo id is saved as soon as it exists, and all of them before the feed call.
    expect(saved.map((handles) => Object.keys(handles))).toEqual([
      ['photo.0'],
      ['photo.1'],
      ['photo.2'],
      ['sentAt', 'textDigest'],
    ])
    expect(await facebook.emulator.countPosts(call.accountId)).toBe(1)
  })

  it('after a refused feed call, looks up not_found and retries with the photos already uploaded', async () => {
    const { adapter, call } = await facebook.connect()
    const post = { text: 'Two loaves', media: [photo(1), photo(2)] }
    facebook.emulator.faults.inject(
      { method: 'POST', path: /\/feed$/ },
      {
        kind: 'response',
        status: 503,
        body: {
          error: { code: 2, message: 'Service temporarily unavailable', is_transient: true },
        },
      },
    )
    const first = publishParams(call, post)
    await expect(adapter.publish(first.params)).rejects.toMatchObject({
      code: 'PLATFORM_UNAVAILABLE',
    })
    expect(facebook.emulator.photos().size).toBe(2)
    const handles = first.handles()
    expect(
      await adapter.lookUpPublication({ ...call, attemptId: first.params.attemptId, handles }),
    ).toEqual({ status: 'not_found' })

    const retry = publishParams(call, post, { handles })
    const published = expectPublished(await adapter.publish(retry.params))
    expect(facebook.emulator.photos().size).toBe(2)
    const [made] = facebook.emulator.posts()
    expect(made?.id).toBe(published.platformPostId)
    expect(made?.photoIds).toEqual([handles['photo.0'], handles['photo.1']])
  })
})
