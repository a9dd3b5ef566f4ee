import type { OpenAPIHono } from '@hono/zod-openapi'

type DocumentConfig = Parameters<OpenAPIHono['getOpenAPI31Document']>[0]

/** The parts of the OpenAPI document that no route describes. */
export const OPENAPI_DOCUMENT_CONFIG = {
  openapi: '3.1.0',
  info: {
    title: 'Post Scheduler API',
    version: '1',
    description:
      'Open-source scheduling infrastructure for social media. Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code` and the `requestId` of the call. Every `POST` accepts an `Idempotency-Key` header (1–255 visible characters, kept 24 hours per caller): the same key and body replay the first response with `Idempotent-Replayed: true`, another body is refused with `422 IDEMPOTENCY_KEY_REUSED`, and `409` answers while the first is still running.',
    license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
  },
  tags: [{ name: 'Operations', description: 'Health and readiness of the server' }],
} satisfies DocumentConfig
