import { encodeBase64 } from '@oslojs/encoding'
import { z } from 'zod'
import {
  isAdapterError,
  ReconnectRequiredError,
  UnexpectedResponseError,
} from '../errors/errors.ts'
import { type CallOptions, readJSON, sendPlatformRequest } from '../http/request.ts'

/** Tokens from a code exchange or a refresh, normalised. */
export interface OAuthTokens {
  accessToken: string
  /** `undefined` when the platform did not say (treat as long-lived, refresh on 401). */
  accessTokenExpiresAt: Date | undefined
  /** Present when the platform issued one. Some platforms rotate it on every refresh: store the new one. */
  refreshToken: string | undefined
  refreshTokenExpiresAt: Date | undefined
  /** Scopes granted, which may be fewer than requested. Empty when the platform did not say. */
  scopes: string[]
  tokenType: string
}

/** How the client proves who it is to the token endpoint (RFC 6749 §2.3.1). */
export type ClientAuthentication = 'basic' | 'body'

/** A request to an OAuth 2.0 token (or revocation) endpoint. */
export interface TokenRequest {
  platform: string
  url: string | URL
  clientId: string
  /** Omitted for public clients (PKCE only). */
  clientSecret?: string
  /** `basic` (HTTP Basic, the RFC's preference) or `body` (`client_id`/`client_secret` fields). */
  authentication?: ClientAuthentication
  /** The grant's fields: `grant_type`, `code`, `redirect_uri`, `code_verifier`, `refresh_token`… */
  body: Record<string, string>
  /** Parses scopes when the platform separates them by something other than spaces. */
  scopeSeparator?: string | RegExp
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().default('bearer'),
  expires_in: z.coerce.number().optional(),
  refresh_token: z.string().optional(),
  refresh_token_expires_in: z.coerce.number().optional(),
  scope: z.string().optional(),
})

/**
 * Posts a form-encoded token request (authorization code, refresh token) and normalises the
 * answer into {@link OAuthTokens}. `invalid_grant` (a used, expired or revoked code or refresh
 * token) becomes `RECONNECT_REQUIRED`: only a person can fix it by connecting again.
 *
 * @example
 * ```ts
 * const tokens = await requestTokens({
 *   platform: 'sandbox',
 *   url: `${baseURL}/oauth/token`,
 *   clientId,
 *   clientSecret,
 *   body: { grant_type: 'authorization_code', code, redirect_uri: redirectURI, code_verifier: codeVerifier },
 * }, { signal })
 * ```
 */
export async function requestTokens(
  request: TokenRequest,
  options: CallOptions = {},
): Promise<OAuthTokens> {
  const now = Date.now()
  const response = await sendTokenEndpointRequest(request, options)
  const body = await readJSON(response, tokenResponseSchema, request.platform)
  const at = (seconds: number | undefined) =>
    seconds === undefined ? undefined : new Date(now + seconds * 1000)
  return {
    accessToken: body.access_token,
    accessTokenExpiresAt: at(body.expires_in),
    refreshToken: body.refresh_token,
    refreshTokenExpiresAt: at(body.refresh_token_expires_in),
    scopes: body.scope ? body.scope.split(request.scopeSeparator ?? ' ').filter(Boolean) : [],
    tokenType: body.token_type,
  }
}

/**
 * Posts a form-encoded request with client authentication to a token-like endpoint (a token
 * revocation endpoint, RFC 7009) and returns the raw response; errors as in `requestTokens`.
 *
 * @example
 * ```ts
 * await sendTokenEndpointRequest({ platform, url: `${baseURL}/oauth/revoke`, clientId, clientSecret, body: { token } })
 * ```
 */
export async function sendTokenEndpointRequest(
  request: TokenRequest,
  options: CallOptions = {},
): Promise<Response> {
  const authentication =
    request.clientSecret === undefined ? 'body' : (request.authentication ?? 'basic')
  const form: Record<string, string> = { ...request.body }
  const headers: Record<string, string> = { accept: 'application/json' }
  if (authentication === 'basic') {
    // RFC 6749 §2.3.1: form-urlencode each part before joining, so ':' in an id survives.
    const user = `${encodeURIComponent(request.clientId)}:${encodeURIComponent(request.clientSecret ?? '')}`
    headers.authorization = `Basic ${encodeBase64(new TextEncoder().encode(user))}`
  } else {
    form.client_id = request.clientId
    if (request.clientSecret !== undefined) form.client_secret = request.clientSecret
  }
  try {
    return await sendPlatformRequest(
      { platform: request.platform, method: 'POST', url: request.url, headers, form },
      options,
    )
  } catch (error) {
    if (!isAdapterError(error, 'CONTENT_REJECTED')) throw error
    const said = `${error.platformCode ?? error.status}${error.platformMessage ? `: ${error.platformMessage}` : ''}`
    // A 400 from a token endpoint is never about content: either the grant is dead (a person
    // must connect again) or the request is wrong (our configuration: fix it, do not retry).
    if (error.platformCode === 'invalid_grant') {
      throw new ReconnectRequiredError(
        `${request.platform} refused the grant (${said}). Connect the account again.`,
        { platform: request.platform, status: error.status, reason: 'invalid_grant', cause: error },
      )
    }
    throw new UnexpectedResponseError(
      `${request.platform} refused the token request (${said}). Check the app's client id, secret and redirect URI.`,
      { platform: request.platform, status: error.status, cause: error },
    )
  }
}
