import type { SandboxPost } from './store.ts'

const escapeHTML = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (character) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ??
      character,
  )

function page(title: string, body: string): Response {
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHTML(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}button{font:inherit;padding:.5rem 1rem;margin-right:.5rem}input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}.note{color:#555;font-size:.9rem}</style></head><body>${body}</body></html>`,
    {
      headers: {
        'content-type': 'text/html; charset=utf-8',
        // The consent page must not be framed by another site (clickjacking a grant).
        'x-frame-options': 'DENY',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      },
    },
  )
}

/** The consent screen: what a real platform shows before granting access. */
export function renderConsentPage(params: {
  action: string
  fields: Record<string, string>
  clientId: string
  scopes: string[]
}): Response {
  const hidden = Object.entries(params.fields)
    .map(
      ([name, value]) =>
        `<input type="hidden" name="${escapeHTML(name)}" value="${escapeHTML(value)}">`,
    )
    .join('')
  return page(
    'Sandbox — allow access?',
    `<h1>Allow access to your Sandbox account?</h1>
<p><strong>${escapeHTML(params.clientId)}</strong> asks to: ${escapeHTML(params.scopes.join(', ') || 'use your account')}.</p>
<form method="post" action="${escapeHTML(params.action)}">${hidden}
<p><label>Sign in to the sandbox as<br><input name="name" value="Sandbox User" maxlength="60" required></label></p>
<p class="note">The sandbox is a pretend network: nothing you publish here leaves this server.</p>
<button name="decision" value="allow" type="submit">Allow</button><button name="decision" value="deny" type="submit">Deny</button>
</form>`,
  )
}

/** An error shown instead of redirecting, when the redirect target itself is in doubt. */
export function renderErrorPage(message: string, status: number): Response {
  const response = page('Sandbox — error', `<h1>Cannot continue</h1><p>${escapeHTML(message)}</p>`)
  return new Response(response.body, { status, headers: response.headers })
}

/** The public page of a published post (its `url`). */
export function renderPostPage(post: SandboxPost): Response {
  const thread = post.thread.map((part) => `<p>↳ ${escapeHTML(part.text)}</p>`).join('')
  const comment = post.firstComment
    ? `<p class="note">First comment: ${escapeHTML(post.firstComment.text)}</p>`
    : ''
  const media = post.media.length ? `<p class="note">${post.media.length} media file(s)</p>` : ''
  return page(
    `Sandbox post ${post.id}`,
    `<p class="note">${escapeHTML(post.accountId)} · ${post.createdAt.toISOString()}</p><p>${escapeHTML(post.text)}</p>${media}${thread}${comment}`,
  )
}
