import { createRoute, z } from '@hono/zod-openapi'
import { beforeAll, describe, expect, it } from 'vitest'
import { testConfig } from '../../test/config.ts'
import type { Problem } from '../http/problem.ts'
import { createPostScheduler } from '../post-scheduler.ts'
import type { OpenAPIDocument } from './app.ts'

// No database is needed for these: the app answers them without start().
const scheduler = createPostScheduler({
  config: testConfig('postgres://unused@127.0.0.1:1/unused', { maxBodyBytes: 64 }),
})
const app = scheduler.app

beforeAll(() => {
  // A route with a body schema, to exercise request validation through the real pipeline.
  app.openapi(
    createRoute({
      method: 'post',
      path: '/test/echo',
      request: {
        body: {
          content: {
            'application/json': {
              schema: z.object({ name: z.string().min(1), tags: z.array(z.string()).max(2) }),
            },
          },
        },
      },
      responses: { 200: { description: 'echo' } },
    }),
    (c) => c.json(c.req.valid('json'), 200),
  )
  app.get('/test/crash', () => {
    throw new Error('database password is hunter2')
  })
})

const postJSON = (path: string, body: string) =>
  app.request(path, { method: 'POST', body, headers: { 'content-type': 'application/json' } })

describe('errors are RFC 9457 problem documents', () => {
  it('answers /v1 requests with 503 NOT_READY until the server has started', async () => {
    const response = await app.request('/v1/me')
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ code: 'NOT_READY' })
  })

  it('answers unknown routes with 404 NOT_FOUND', async () => {
    const response = await app.request('/nothing-here')
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    const problem = (await response.json()) as Problem
    expect(problem).toMatchObject({
      type: 'about:blank',
      status: 404,
      code: 'NOT_FOUND',
      detail: 'No route matches GET /nothing-here',
      instance: '/nothing-here',
    })
    expect(problem.requestId).toBe(response.headers.get('x-request-id'))
  })

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const response = await app.request('/healthz', { method: 'DELETE' })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, HEAD')
    expect(await response.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' })
  })

  it('refuses bodies over the configured limit with 413 before reading them', async () => {
    const response = await postJSON(
      '/test/echo',
      JSON.stringify({ name: 'x'.repeat(100), tags: [] }),
    )
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      detail: 'The request body is larger than the 64 bytes this server accepts',
    })
  })

  it('lists every invalid value with its location and path as 422 VALIDATION_FAILED', async () => {
    const response = await postJSON('/test/echo', JSON.stringify({ name: '', tags: [1] }))
    expect(response.status).toBe(422)
    const problem = (await response.json()) as Problem
    expect(problem).toMatchObject({ code: 'VALIDATION_FAILED', status: 422 })
    expect(problem.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ location: 'body', path: ['name'], code: 'too_small' }),
        expect.objectContaining({ location: 'body', path: ['tags', 0], code: 'invalid_type' }),
      ]),
    )
  })

  it('answers malformed JSON with 400 MALFORMED_REQUEST', async () => {
    const response = await postJSON('/test/echo', '{"name":')
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ code: 'MALFORMED_REQUEST' })
  })

  it('hides the details of unexpected errors behind 500 INTERNAL_ERROR', async () => {
    const response = await app.request('/test/crash')
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(text).not.toContain('hunter2')
    expect(JSON.parse(text)).toMatchObject({ code: 'INTERNAL_ERROR' })
  })

  it('accepts valid requests', async () => {
    const response = await postJSON('/test/echo', JSON.stringify({ name: 'a', tags: [] }))
    expect(response.status).toBe(200)
  })
})

describe('every response', () => {
  it('carries a request id, keeping a well-formed one the client sent', async () => {
    const generated = await app.request('/healthz')
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const echoed = await app.request('/healthz', { headers: { 'x-request-id': 'trace-42' } })
    expect(echoed.headers.get('x-request-id')).toBe('trace-42')
  })

  it('carries secure headers, without HSTS over plain HTTP', async () => {
    const response = await app.request('/nothing-here')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
    expect(response.headers.get('strict-transport-security')).toBeNull()
  })

  it('carries HSTS when the server speaks HTTPS', async () => {
    const https = createPostScheduler({
      config: testConfig('postgres://unused@127.0.0.1:1/unused', {
        tls: { certFile: '/unused/cert.pem', keyFile: '/unused/key.pem' },
      }),
    })
    const response = await https.app.request('/healthz')
    expect(response.headers.get('strict-transport-security')).toBe(
      'max-age=63072000; includeSubDomains',
    )
  })
})

describe('API reference', () => {
  it('serves the OpenAPI 3.1 document', async () => {
    const response = await app.request('/openapi.json')
    expect(response.status).toBe(200)
    const document = (await response.json()) as OpenAPIDocument
    expect(document.openapi).toBe('3.1.0')
    expect(Object.keys(document.paths ?? {})).toEqual(
      expect.arrayContaining(['/healthz', '/readyz']),
    )
    expect(document.components?.schemas?.Problem).toBeDefined()
  })

  it('serves /docs with the Scalar bundle from this server, not a CDN', async () => {
    const page = await (await app.request('/docs')).text()
    expect(page).toContain('<script src="/docs/scalar.js"')
    expect(page).toContain('/openapi.json')
    expect(page).not.toContain('cdn.jsdelivr.net')
    expect(page).toContain('"telemetry": false')
    expect(page).toContain('"withDefaultFonts": false')
    const bundle = await app.request('/docs/scalar.js')
    expect(bundle.status).toBe(200)
    expect(bundle.headers.get('content-type')).toContain('javascript')
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000)
  })

  it('keeps working when mounted under a prefix', async () => {
    const { Hono } = await import('hono')
    const host = new Hono().route('/scheduling', app)
    const page = await (await host.request('/scheduling/docs')).text()
    expect(page).toContain('/scheduling/docs/scalar.js')
    expect(page).toContain('/scheduling/openapi.json')
  })

  it('answers liveness before start', async () => {
    const response = await app.request('/healthz')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok' })
  })
})
