import type { Adapter } from '@post-scheduler/adapter-core'
import type { OAuthApp, Platform } from '../platforms/registry.ts'
import { resolveOAuthApp } from '../platforms/service.ts'
import type { Services } from '../services.ts'
import { type ConnectedAccount, tokenContext } from './tokens.ts'

/** A connected account's platform, its adapter (with the workspace's app) and its tokens. */
export interface AccountAdapter {
  platform: Platform
  adapter: Adapter
  /**
   * Opens one of the account's sealed tokens (decrypted on demand, so a caller that finds nothing
   * to do never holds it).
   *
   * @throws when the account has no such token.
   */
  openToken(column: 'access_token' | 'refresh_token'): string
}

/**
 * The adapter to call for a connected account — built with the workspace's own OAuth app for
 * the platform, else the operator's — and a way to open the account's tokens. A caller that
 * already resolved the app (the publishing engine does, in its claim) passes it as `app`, and
 * nothing is read.
 *
 * @example
 * ```ts
 * const { adapter, platform, openToken } = await openAccountAdapter(services, account)
 * await adapter.revokeToken?.({ token: openToken('access_token') }, platform.callOptions)
 * ```
 */
export async function openAccountAdapter(
  services: Pick<Services, 'db' | 'platforms' | 'vault'>,
  account: ConnectedAccount,
  app?: OAuthApp,
): Promise<AccountAdapter> {
  const platform = services.platforms.get(account.platform)
  const adapter = platform.adapter(
    app ?? (await resolveOAuthApp(services, account.workspaceId, platform)),
  )
  return {
    platform,
    adapter,
    openToken(column) {
      const sealed =
        column === 'access_token' ? account.accessTokenSealed : account.refreshTokenSealed
      if (!sealed) throw new Error(`connected account ${account.id} has no ${column}`)
      return services.vault.open(sealed, tokenContext(account, column))
    },
  }
}
