import { http } from 'msw'
import { describe, expect, it } from 'vitest'
import { attempt, media, rejection, useLinkedIn } from '../test/harness.ts'

describe('linkedin().publish', () => {
  const linkedIn = useLinkedIn({ videoPartSizeBytes: 1024, videoProcessingPolls: 2 })

  it('creates the post with the versioned headers and reads its URN from x-restli-id', async () => {
    const { adapter, member } = await linkedIn.connect({ version: '202607' })
    const published = await adapter.publish(
      attempt(member, { text: 'Launch (beta) #1 @team', options: { visibility: 'connections' } })
        .params,
    )
    const [sent] = linkedIn.emulator.requests.find('POST', '/rest/posts')
    expect(sent?.headers.get('linkedin-version')).toBe('202607')
    expect(sent?.headers.get('x-restli-protocol-version')).toBe('2.0.0')
    expect(JSON.parse(sent?.bodyText ?? '')).toEqual({
      author: linkedIn.emulator.memberURN,
      commentary: 'Launch \\(beta\\) \\#1 \\@team',
      visibility: 'CONNECTIONS',
      distribution: {
        feedDistribution: 'MAIN_FEED',
        targetEntities: [],
        thirdPartyDistributionChannels: [],
      },
      lifecycleState: 'PUBLISHED',
      isReshareDisabledByAuthor: false,
    })
    const [post] = linkedIn.emulator.posts()
    expect(published).toEqual({
      platformPostId: post?.id,
      url: `https://www.linkedin.com/feed/update/${post?.id}/`,
    })
  })

  it('publishes as an organization page with the organization as author', async () => {
    const { adapter, account } = await linkedIn.connect()
    const page = account('organization')
    await adapter.publish(attempt(page, { text: 'From the page' }).params)
    expect(linkedIn.emulator.posts()).toMatchObject([
      { author: 'urn:li:organization:2414183', commentary: 'From the page' },
    ])
  })

  it('asks for a reconnect when the member may not post for a page', async () => {
    const { adapter, member } = await linkedIn.connect()
    const analystPage = { ...member, accountId: 'urn:li:organization:5515715' }
    const error = await rejection(adapter.publish(attempt(analystPage, { text: 'Hi' }).params))
    expect(error).toMatchObject({
      code: 'RECONNECT_REQUIRED',
      reason: 'insufficient_permissions',
      status: 403,
    })
    expect(linkedIn.emulator.posts()).toEqual([])
  })

  it('uploads an image with the token and attaches it with its alt text', async () => {
    const { adapter, member } = await linkedIn.connect()
    const run = attempt(member, {
      text: 'A picture',
      media: [media('image', 'm1', 2048, { altText: 'A red door' })],
    })
    await adapter.publish(run.params)
    const [put] = linkedIn.emulator.requests.find(
      'PUT',
      linkedIn.emulator.requests.list().find((entry) => entry.method === 'PUT')?.url.pathname ?? '',
    )
    expect(put?.headers.get('authorization')).toMatch(/^Bearer /)
    const imageURN = run.handles()['media:m1']
    expect(imageURN).toMatch(/^urn:li:image:/)
    expect(linkedIn.emulator.posts()[0]?.content).toEqual({
      media: { id: imageURN, altText: 'A red door' },
    })
  })

  it('publishes 2 to 20 images as a multiImage post', async () => {
    const { adapter, member } = await linkedIn.connect()
    const run = attempt(member, {
      text: 'Album',
      media: [media('image', 'a'), media('image', 'b'), media('gif', 'c')],
    })
    await adapter.publish(run.params)
    const handles = run.handles()
    expect(linkedIn.emulator.posts()[0]?.content).toEqual({
      multiImage: {
        images: [
          { id: handles['media:a'] },
          { id: handles['media:b'] },
          { id: handles['media:c'] },
        ],
      },
    })
  })

  it('publishes a document with its title, and requires one before sending anything', async () => {
    const { adapter, member } = await linkedIn.connect()
    const untitled = { text: 'Report', media: [media('document', 'pdf')] }
    expect(adapter.validatePost({ post: untitled })).toEqual([
      expect.objectContaining({
        path: ['options', 'documentTitle'],
        code: 'DOCUMENT_TITLE_REQUIRED',
      }),
    ])
    const error = await rejection(adapter.publish(attempt(member, untitled).params))
    expect(error).toMatchObject({ code: 'CONTENT_REJECTED', action: 'fix_content' })
    expect(linkedIn.emulator.requests.find('POST', '/rest/documents')).toEqual([])

    await adapter.publish(
      attempt(member, { ...untitled, options: { documentTitle: 'Q3 report' } }).params,
    )
    expect(linkedIn.emulator.posts()[0]?.content).toEqual({
      media: { id: expect.stringMatching(/^urn:li:document:/), title: 'Q3 report' },
    })
  })

  it('uploads a video in parts, finalizes with the ETags in order and posts once it is available', async () => {
    const { adapter, member } = await linkedIn.connect()
    linkedIn.emulator.fail('upload', 'unavailable')
    await adapter.publish(
      attempt(member, {
        text: 'Watch',
        media: [media('video', 'v1', 2500)],
        options: { videoTitle: 'Demo' },
      }).params,
    )
    const requests = linkedIn.emulator.requests.list()
    const parts = requests
      .filter((entry) => entry.method === 'PUT')
      .map((entry) => entry.url.pathname.split('/').at(-1))
    // Part 0 failed once (503) and was sent again on its own.
    expect(parts).toEqual(['0', '0', '1', '2'])
    const finalize = requests.find(
      (entry) => entry.url.searchParams.get('action') === 'finalizeUpload',
    )
    expect(JSON.parse(finalize?.bodyText ?? '').finalizeUploadRequest.uploadedPartIds).toHaveLength(
      3,
    )
    const polls = requests.filter((entry) => entry.url.pathname.startsWith('/rest/videos/'))
    expect(polls).toHaveLength(3)
    expect(linkedIn.emulator.posts()[0]?.content).toEqual({
      media: { id: expect.stringMatching(/^urn:li:video:/), title: 'Demo' },
    })
  })

  it('asks to retry later when the video is still processing, and the retry reuses the upload', async () => {
    const { adapter, member } = await linkedIn.connect({
      videoProcessing: { pollIntervalMs: 0, maxPolls: 2 },
    })
    const post = { text: 'Slow video', media: [media('video', 'v1', 1500)] }
    const first = attempt(member, post)
    const error = await rejection(adapter.publish(first.params))
    expect(error).toMatchObject({ code: 'PLATFORM_UNAVAILABLE', retryable: true })
    expect(first.handles()['media:v1']).toMatch(/^urn:li:video:/)
    expect(linkedIn.emulator.posts()).toEqual([])

    await adapter.publish(attempt(member, post, { handles: first.handles() }).params)
    const initializations = linkedIn.emulator.requests
      .list()
      .filter((entry) => entry.url.searchParams.get('action') === 'initializeUpload')
    expect(initializations).toHaveLength(1)
    expect(linkedIn.emulator.posts()).toHaveLength(1)
  })

  it('checkpoints every upload, then the author, text digest and send time, before posting', async () => {
    const { adapter, member } = await linkedIn.connect()
    const events: string[] = []
    linkedIn.server.events.on('request:start', ({ request }) => {
      if (request.method === 'POST' && new URL(request.url).pathname === '/rest/posts')
        events.push('post sent')
    })
    const run = attempt(
      member,
      { text: 'Secret plans', media: [media('image', 'a'), media('image', 'b')] },
      {
        checkpoint: async (handles) =>
          void events.push(`checkpoint ${Object.keys(handles).sort().join(',')}`),
      },
    )
    await adapter.publish(run.params)
    linkedIn.server.events.removeAllListeners()
    expect(events).toEqual([
      'checkpoint media:a',
      'checkpoint media:a,media:b',
      'checkpoint author,media:a,media:b,sentAt,textDigest',
      'post sent',
    ])
  })

  it('keeps the text itself out of the handles', async () => {
    const { adapter, member } = await linkedIn.connect()
    const run = attempt(member, { text: 'Secret plans' })
    await adapter.publish(run.params)
    expect(JSON.stringify(run.handles())).not.toContain('Secret')
    expect(run.handles().textDigest).toMatch(/^[0-9a-f]{64}$/)
  })

  it('does not post when the checkpoint cannot be saved', async () => {
    const { adapter, member } = await linkedIn.connect()
    const failure = new Error('database unavailable')
    const run = attempt(member, { text: 'Hi' }, { checkpoint: () => Promise.reject(failure) })
    await expect(adapter.publish(run.params)).rejects.toBe(failure)
    expect(linkedIn.emulator.requests.find('POST', '/rest/posts')).toEqual([])
  })

  it('reuses uploaded media on a retry instead of uploading again', async () => {
    const { adapter, member } = await linkedIn.connect()
    const post = { text: 'Retry me', media: [media('image', 'a')] }
    linkedIn.emulator.fail('publish', 'unavailable')
    const first = attempt(member, post)
    await rejection(adapter.publish(first.params))
    await adapter.publish(attempt(member, post, { handles: first.handles() }).params)
    expect(linkedIn.emulator.requests.find('POST', '/rest/images')).toHaveLength(1)
    expect(linkedIn.emulator.posts()).toHaveLength(1)
  })

  it('refuses a sunset API version as a configuration error, not the content', async () => {
    const { adapter, member } = await linkedIn.connect({ version: '202401' })
    const error = await rejection(adapter.publish(attempt(member, { text: 'Hi' }).params))
    expect(error).toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: 426 })
    expect(String(error.message)).toContain('202401')
    expect(linkedIn.emulator.posts()).toEqual([])
  })

  it('treats a 201 without x-restli-id as an unknown outcome, to look up', async () => {
    const { adapter, member } = await linkedIn.connect()
    linkedIn.server.use(
      http.post('https://api.linkedin.com/rest/posts', () => new Response(null, { status: 201 }), {
        once: true,
      }),
    )
    const error = await rejection(adapter.publish(attempt(member, { text: 'Hi' }).params))
    expect(error).toMatchObject({ code: 'OUTCOME_UNKNOWN', retryable: false })
  })
})

describe('linkedin() delete and metrics', () => {
  const linkedIn = useLinkedIn()

  it("reports a member's post numbers from memberCreatorPostAnalytics", async () => {
    const { adapter, member } = await linkedIn.connect()
    const { platformPostId } = await adapter.publish(attempt(member, { text: 'Count me' }).params)
    const [metrics] = await adapter.getMetrics({ ...member, platformPostIds: [platformPostId] })
    const queries = linkedIn.emulator.requests
      .find('GET', '/rest/memberCreatorPostAnalytics')
      .map((entry) => entry.url.searchParams.get('queryType'))
    expect(queries).toEqual(['IMPRESSION', 'REACTION', 'COMMENT', 'RESHARE'])
    expect(metrics).toMatchObject({
      platformPostId,
      impressions: expect.any(Number),
      likes: expect.any(Number),
      comments: expect.any(Number),
      shares: expect.any(Number),
    })
    expect(metrics?.measuredAt).toEqual(expect.any(Date))
  })

  it("reports a page's post numbers from one share statistics call", async () => {
    const { adapter, account } = await linkedIn.connect()
    const page = account('organization')
    const first = await adapter.publish(attempt(page, { text: 'One' }).params)
    const second = await adapter.publish(attempt(page, { text: 'Two' }).params)
    const ids = [first.platformPostId, second.platformPostId]
    const metrics = await adapter.getMetrics({ ...page, platformPostIds: ids })
    expect(
      linkedIn.emulator.requests.find('GET', '/rest/organizationalEntityShareStatistics'),
    ).toHaveLength(1)
    expect(metrics.map((entry) => entry.platformPostId)).toEqual(ids)
    for (const entry of metrics) {
      expect(entry).toMatchObject({ impressions: expect.any(Number), clicks: expect.any(Number) })
    }
  })

  it('asks for a reconnect when the token lacks the analytics scope', async () => {
    const { adapter, member } = await linkedIn.connect({}, ['openid', 'profile', 'w_member_social'])
    const { platformPostId } = await adapter.publish(attempt(member, { text: 'Hi' }).params)
    const error = await rejection(
      adapter.getMetrics({ ...member, platformPostIds: [platformPostId] }),
    )
    expect(error).toMatchObject({ code: 'RECONNECT_REQUIRED', reason: 'insufficient_permissions' })
  })

  it('deletes with the Rest.li DELETE method header', async () => {
    const { adapter, member } = await linkedIn.connect()
    const { platformPostId } = await adapter.publish(attempt(member, { text: 'Bye' }).params)
    await adapter.deletePost({ ...member, platformPostId })
    const [deleted] = linkedIn.emulator.requests.list().filter((entry) => entry.method === 'DELETE')
    expect(decodeURIComponent(deleted?.url.pathname ?? '')).toBe(`/rest/posts/${platformPostId}`)
    expect(deleted?.headers.get('x-restli-method')).toBe('DELETE')
    expect(await linkedIn.emulator.countPosts(member.accountId)).toBe(0)
  })
})
