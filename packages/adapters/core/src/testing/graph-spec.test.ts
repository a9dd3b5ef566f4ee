import { readFileSync } from 'node:fs'
import { HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmulatorKit } from './emulator-kit.ts'
import {
  createGraphErrorBody,
  createGraphSpecValidator,
  type GraphDocumentedEdge,
  type GraphEnumType,
  type GraphNodeSpec,
  type GraphPath,
  parseGraphPath,
} from './graph-spec.ts'

// The real node specs, copied into specs/meta (see specs/SOURCES.md).
const spec = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../specs/meta/${name}.json`, import.meta.url), 'utf8')) as T
const nodes = {
  IGUser: spec<GraphNodeSpec>('IGUser'),
  IGUserForIGOnlyAPI: spec<GraphNodeSpec>('IGUserForIGOnlyAPI'),
  Page: spec<GraphNodeSpec>('Page'),
  ShadowIGMediaBuilder: spec<GraphNodeSpec>('ShadowIGMediaBuilder'),
}
const enumTypes = spec<GraphEnumType[]>('enum_types')

// What an Instagram adapter would declare: the spec types media_type as a plain string.
const documented: GraphDocumentedEdge[] = [
  {
    node: 'IGUser',
    method: 'POST',
    edge: 'media',
    params: [{ name: 'media_type', values: ['CAROUSEL', 'REELS', 'STORIES', 'VIDEO'] }],
    source:
      'https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media',
  },
  {
    node: 'IGUserForIGOnlyAPI',
    method: 'POST',
    edge: 'media_publish',
    params: [{ name: 'creation_id', type: 'unsigned int', required: true }],
    source: 'The IG-Login spec names the edge mediapublish; the docs call it media_publish',
  },
]
const graph = createGraphSpecValidator({ nodes, enumTypes, documented })

const igUser = '17841400000000001'
const page = '100000000000002'
const container = '17890000000000003'
const typeOf: Record<string, string> = {
  [igUser]: 'IGUser',
  [page]: 'Page',
  [container]: 'ShadowIGMediaBuilder',
}
const nodeOf = (path: GraphPath) => typeOf[path.objectId]

// A minimal Graph emulator: every request is checked against the specs before it is served.
const kit = createEmulatorKit({ platform: 'graph' })
const server = setupServer(
  kit.route('all', /^https:\/\/graph\.facebook\.com\//, async ({ request }) => {
    const { issues } = await graph.checkRequest(request, nodeOf)
    if (issues[0]) return HttpResponse.json(createGraphErrorBody(issues[0]), { status: 400 })
    return HttpResponse.json({ id: '1' })
  }),
)
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterAll(() => server.close())

const base = 'https://graph.facebook.com/v23.0'
const sendQuery = (method: string, path: string, params: Record<string, string>) =>
  fetch(`${base}${path}?${new URLSearchParams({ access_token: 'token', ...params })}`, { method })
const sendForm = (path: string, params: Record<string, string>) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    body: new URLSearchParams({ access_token: 'token', ...params }),
  })
const sendJSON = (path: string, body: Record<string, unknown>) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer token' },
    body: JSON.stringify(body),
  })
const errorOf = async (response: Response) =>
  ((await response.json()) as { error: Record<string, unknown> }).error

describe('an Instagram container creation (POST /{ig-user-id}/media)', () => {
  it('passes with image_url, caption, alt_text and user_tags, in any of the three encodings', async () => {
    const params = {
      image_url: 'https://cdn.example.test/a.jpg',
      caption: 'Hello #world',
      alt_text: 'A cat',
      user_tags: JSON.stringify([{ username: 'someone', x: 0.5, y: 0.8 }]),
    }
    expect((await sendQuery('POST', `/${igUser}/media`, params)).status).toBe(200)
    expect((await sendForm(`/${igUser}/media`, params)).status).toBe(200)
    const json = { ...params, user_tags: [{ username: 'someone', x: 0.5, y: 0.8 }] }
    expect((await sendJSON(`/${igUser}/media`, json)).status).toBe(200)
  })

  it('passes a reel, and a carousel parent whose children are a comma-separated list', async () => {
    const reel = { media_type: 'REELS', video_url: 'https://cdn.example.test/a.mp4' }
    expect((await sendForm(`/${igUser}/media`, { ...reel, share_to_feed: 'true' })).status).toBe(
      200,
    )
    const carousel = { media_type: 'CAROUSEL', children: '1789,1790', caption: 'Two' }
    expect((await sendForm(`/${igUser}/media`, carousel)).status).toBe(200)
  })

  it('refuses a misspelt parameter with Graph’s envelope, naming it and the likely intent', async () => {
    const response = await sendForm(`/${igUser}/media`, {
      image_url: 'https://cdn.example.test/a.jpg',
      captoin: 'Hello',
    })
    expect(response.status).toBe(400)
    const error = await errorOf(response)
    expect(error).toMatchObject({ type: 'OAuthException', code: 100 })
    expect(error.message).toMatch(/^\(#100\) Param captoin is not a valid parameter/)
    expect(error.message).toContain('did you mean caption?')
    expect(error.fbtrace_id).toEqual(expect.any(String))
  })

  it('refuses a media_type outside the documented values', async () => {
    const error = await errorOf(
      await sendForm(`/${igUser}/media`, {
        media_type: 'VIDEOS',
        video_url: 'https://cdn.example.test/a.mp4',
      }),
    )
    expect(error.message).toBe(
      '(#100) Param media_type must be one of {CAROUSEL, REELS, STORIES, VIDEO} - got "VIDEOS"',
    )
  })

  it('refuses a boolean that is not one', async () => {
    const issues = graph.validate({
      node: 'IGUser',
      method: 'POST',
      edge: 'media',
      params: { is_carousel_item: 'yes', image_url: 'https://cdn.example.test/a.jpg' },
    })
    expect(issues).toMatchObject([{ reason: 'INVALID_TYPE', param: 'is_carousel_item' }])
  })
})

describe('media_publish', () => {
  it('refuses a call without creation_id, naming it', async () => {
    const error = await errorOf(await sendForm(`/${igUser}/media_publish`, {}))
    expect(error.message).toBe('(#100) The parameter creation_id is required')
  })

  it('takes the documented media_publish path on the Instagram-Login graph', () => {
    const shape = { node: 'IGUserForIGOnlyAPI', method: 'POST', edge: 'media_publish' }
    expect(graph.validate({ ...shape, params: { creation_id: container } })).toEqual([])
    expect(graph.validate({ ...shape, params: {} })).toMatchObject([
      { reason: 'MISSING_PARAMETER', param: 'creation_id' },
    ])
  })
})

describe('a Facebook Page reel (POST /{page-id}/video_reels)', () => {
  it('passes the start and finish phases as Meta’s guide sends them', async () => {
    expect((await sendForm(`/${page}/video_reels`, { upload_phase: 'start' })).status).toBe(200)
    const finish = {
      upload_phase: 'FINISH',
      video_id: '555',
      video_state: 'PUBLISHED',
      description: 'A reel',
    }
    expect((await sendJSON(`/${page}/video_reels`, finish)).status).toBe(200)
  })

  it('refuses an upload_phase outside its enum, and a missing one', async () => {
    const wrong = await errorOf(await sendForm(`/${page}/video_reels`, { upload_phase: 'begin' }))
    expect(wrong.message).toBe(
      '(#100) Param upload_phase must be one of {FINISH, START} - got "begin"',
    )
    const missing = await errorOf(await sendForm(`/${page}/video_reels`, { video_id: '555' }))
    expect(missing.message).toBe('(#100) The parameter upload_phase is required')
  })

  it('reports every problem of a request, not only the first', () => {
    const issues = graph.validate({
      node: 'Page',
      method: 'POST',
      edge: 'video_reels',
      params: { video_state: 'LIVE', descripton: 'x' },
    })
    expect(issues.map((issue) => [issue.reason, issue.param])).toEqual([
      ['INVALID_ENUM', 'video_state'],
      ['UNKNOWN_PARAMETER', 'descripton'],
      ['MISSING_PARAMETER', 'upload_phase'],
    ])
  })
})

describe('a Facebook Page feed post (POST /{page-id}/feed)', () => {
  it('passes a message with a link, and photos attached as a JSON list', async () => {
    const link = { message: 'Read this', link: 'https://example.test', published: 'true' }
    expect((await sendForm(`/${page}/feed`, link)).status).toBe(200)
    const photos = {
      message: 'Two photos',
      attached_media: [{ media_fbid: '1' }, { media_fbid: '2' }],
      published: true,
    }
    expect((await sendJSON(`/${page}/feed?fields=id,permalink_url`, photos)).status).toBe(200)
  })

  it('passes PHP-style list fields (attached_media[0]=…)', async () => {
    const response = await sendForm(`/${page}/feed`, {
      message: 'One photo',
      'attached_media[0]': '{"media_fbid":"1"}',
    })
    expect(response.status).toBe(200)
  })

  it('refuses a misspelt message, a wrong formatting enum and a non-boolean published', async () => {
    const issues = graph.validate({
      node: 'Page',
      method: 'POST',
      edge: 'feed',
      params: { mesage: 'Hi', formatting: 'HTML', published: 'maybe' },
    })
    expect(issues.map((issue) => [issue.reason, issue.param])).toEqual([
      ['UNKNOWN_PARAMETER', 'mesage'],
      ['INVALID_ENUM', 'formatting'],
      ['INVALID_TYPE', 'published'],
    ])
    expect(issues[0]?.message).toContain('did you mean message?')
  })
})

describe('general parameters, fields and routing', () => {
  it('accepts access_token, appsecret_proof, fields and paging on any edge', () => {
    const issues = graph.validate({
      node: 'IGUser',
      method: 'GET',
      edge: 'media',
      params: { access_token: 't', appsecret_proof: 'p', fields: 'id', limit: '25', after: 'c' },
    })
    expect(issues).toEqual([])
  })

  it('checks a container read’s fields against the node’s fields', async () => {
    const fine = await sendQuery('GET', `/${container}`, { fields: 'status_code,status' })
    expect(fine.status).toBe(200)
    const error = await errorOf(
      await sendQuery('GET', `/${container}`, { fields: 'status_cod,video_status{status}' }),
    )
    expect(error.message).toBe(
      '(#100) Tried accessing nonexisting field (status_cod) on node type (ShadowIGMediaBuilder)',
    )
  })

  it('answers an edge the node does not have as Graph does (code 100, subcode 33)', async () => {
    const error = await errorOf(await sendForm(`/${page}/media_publish`, { creation_id: '1' }))
    expect(error).toMatchObject({ type: 'GraphMethodException', code: 100, error_subcode: 33 })
    expect(error.message).toMatch(/^Unsupported post request\. Object with ID '100000000000002'/)
  })

  it('splits paths with and without a version', () => {
    expect(parseGraphPath('/v23.0/123/media')).toEqual({
      version: 'v23.0',
      objectId: '123',
      edge: 'media',
    })
    expect(parseGraphPath('/123')).toEqual({ objectId: '123' })
    expect(parseGraphPath('/v23.0/123/media/extra')).toBeUndefined()
  })

  it('says which spec is missing when asked about a node it was not given', () => {
    expect(() => graph.validate({ node: 'Album', method: 'GET', params: {} })).toThrow(
      /No node spec for Album/,
    )
  })
})
