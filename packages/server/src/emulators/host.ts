import type { Adapter } from '@post-scheduler/adapter-core'
import { StartupError } from '../errors/startup.ts'
import type { OAuthApp, PlatformContext, PlatformEmulator } from '../platforms/definition.ts'

/** An emulator the server hosts at `path` (`/emulators/<platform>`). */
export interface HostedEmulator {
  platform: string
  path: string
  /** Serves an HTTP request under `path`: the platform's API, OAuth and a consent page. */
  handle(request: Request): Promise<Response>
  /** A `fetch` for the adapter: calls the emulator in-process, and nothing else. */
  fetch: typeof fetch
  /** The adapter pointed at the emulator. */
  adapter(app: OAuthApp): Adapter
}

/**
 * Loads a platform's emulator and hosts it at `<publicURL>/emulators/<platform>`, with a consent
 * page a person (or a test, over HTTP) can use. Development only: refused when
 * `NODE_ENV=production`, and msw (the emulators' engine) must be installed.
 *
 * @throws {StartupError} in production, or without msw.
 */
export async function hostEmulator(options: {
  platform: string
  app: OAuthApp
  emulator: PlatformEmulator
  context: PlatformContext
}): Promise<HostedEmulator> {
  if (process.env.NODE_ENV === 'production') {
    throw new StartupError(
      'PLATFORM_EMULATORS=true is refused when NODE_ENV=production: emulated platforms publish nowhere. Unset PLATFORM_EMULATORS.',
    )
  }
  let getResponse: typeof import('msw').getResponse
  try {
    ;({ getResponse } = await import('msw'))
  } catch (error) {
    throw new StartupError(
      `PLATFORM_EMULATORS=true needs the msw package, which runs the platform emulators: install it (npm install msw) or unset PLATFORM_EMULATORS. ${(error as Error).message}`,
    )
  }
  const { publicURL, redirectURI } = options.context
  const path = `/emulators/${options.platform}`
  const baseURL = `${publicURL}${path}`
  const loaded = await options.emulator.load(baseURL, options.app, options.context)
  const consentPath = new URL(loaded.authorizationURL).pathname.slice(
    new URL(baseURL).pathname.length,
  )
  const origins = new Set(loaded.origins ?? [])
  // The emulated address of a real one:
  // `https://graph.instagram.com/x` → `<baseURL>/graph.instagram.com/x`
  const emulatedURL = (url: string) => {
    const { origin, host } = new URL(url)
    return origins.has(origin) ? `${baseURL}/${host}${url.slice(origin.length)}` : url
  }
  /** The real address an emulated path stands for, when it names one of `origins`. */
  const realURL = (rest: string, search: string) => {
    const [, host, path] = /^\/([^/]+)(\/.*)?$/.exec(rest) ?? []
    const origin = `https://${host}`
    return host && origins.has(origin) ? `${origin}${path ?? '/'}${search}` : undefined
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    // Under the base URL whatever host or mount the request came through.
    const at = url.pathname.indexOf(path)
    const rest = at === -1 ? url.pathname : url.pathname.slice(at + path.length)
    if (rest === consentPath && request.method === 'GET') return showConsent(url.searchParams)
    if (rest === consentPath && request.method === 'POST') {
      return decideConsent(new URLSearchParams(await request.text()))
    }
    return answer(request, realURL(rest, url.search) ?? `${baseURL}${rest}${url.search}`, rest)
  }

  async function answer(request: Request, target: string, rest: string): Promise<Response> {
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
    const response = await getResponse(
      loaded.handlers as Parameters<typeof getResponse>[0],
      new Request(target, {
        method: request.method,
        headers: request.headers,
        body: hasBody ? await request.arrayBuffer() : undefined,
        signal: request.signal,
      }),
    )
    return (
      response ??
      Response.json(
        {
          error: 'not_found',
          message: `The ${options.platform} emulator has no ${request.method} ${rest}`,
        },
        { status: 404 },
      )
    )
  }

  function showConsent(params: URLSearchParams): Response {
    const hidden = [...params]
      .map(
        ([name, value]) =>
          `<input type="hidden" name="${escapeHTML(name)}" value="${escapeHTML(value)}">`,
      )
      .join('')
    return html(
      200,
      `<h1>Emulated ${escapeHTML(options.platform)}</h1>
<p>${escapeHTML(params.get('client_id') ?? 'An app')} asks to act for you (${escapeHTML(params.get('scope') ?? '')}). This is an emulator run by Post Scheduler: nothing reaches the real platform.</p>
<form method="post">${hidden}
<label>Sign in as <input name="name" value="Emulated User" maxlength="60" required></label>
<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button>
</form>`,
    )
  }

  async function decideConsent(form: URLSearchParams): Promise<Response> {
    const decision = form.get('decision')
    const name = (form.get('name') ?? '').trim().slice(0, 60) || 'Emulated User'
    form.delete('decision')
    form.delete('name')
    // Only to this server's callback: the emulator must not hand codes to other sites.
    if (form.get('redirect_uri') !== redirectURI) {
      return html(400, `<p>redirect_uri must be ${escapeHTML(redirectURI)}.</p>`)
    }
    const back = new URL(redirectURI)
    const state = form.get('state')
    if (state !== null) back.searchParams.set('state', state)
    if (decision !== 'allow') {
      back.searchParams.set('error', 'access_denied')
      return new Response(null, { status: 303, headers: { location: back.href } })
    }
    const authorization = new URL(loaded.authorizationURL)
    authorization.search = form.toString()
    try {
      const { code } = await loaded.approve(authorization, { name, username: handleOf(name) })
      back.searchParams.set('code', code)
    } catch (error) {
      return html(
        400,
        `<p>The emulator refused the request: ${escapeHTML((error as Error).message)}</p>`,
      )
    }
    return new Response(null, { status: 303, headers: { location: back.href } })
  }

  return {
    platform: options.platform,
    path,
    handle,
    async fetch(input, init) {
      const request = new Request(input, init)
      const real = origins.has(new URL(request.url).origin)
      // An emulated platform never reaches the real one, or anything else.
      if (!real && !request.url.startsWith(`${baseURL}/`)) {
        throw new TypeError(`The emulated ${options.platform} cannot reach ${request.url}`)
      }
      const response = real
        ? await answer(request, request.url, new URL(request.url).pathname)
        : await handle(request)
      // A fault the emulator injects as a broken connection.
      if (response.type === 'error') throw new TypeError('fetch failed')
      return response
    },
    adapter(app) {
      const adapter = options.emulator.adapter(app, baseURL, options.context)
      if (origins.size === 0) return adapter
      return {
        ...adapter,
        // People consent on the page this server hosts, not on the real platform's.
        createAuthorizationURL: (params) =>
          new URL(emulatedURL(adapter.createAuthorizationURL(params).href)),
      }
    },
  }
}

function html(status: number, body: string): Response {
  return new Response(
    `<!doctype html><html><head><meta charset="utf-8"><title>Emulated platform</title></head><body>${body}</body></html>`,
    { status, headers: { 'content-type': 'text/html; charset=utf-8' } },
  )
}

function escapeHTML(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}

function handleOf(name: string): string {
  return (
    name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_|_$/g, '')
      .slice(0, 15) || 'emulated_user'
  )
}
