import type { OAuthTokens } from '@post-scheduler/adapter-core'
import type { connectedAccounts } from '../db/schema/index.ts'
import type { Vault } from '../vault/vault.ts'

/** A connected account's row, tokens sealed. */
export type ConnectedAccount = typeof connectedAccounts.$inferSelect

/** The vault context of an account's token: bound to the row, the tenant and the column. */
export const tokenContext = (
  account: Pick<ConnectedAccount, 'id' | 'workspaceId'>,
  column: 'access_token' | 'refresh_token',
) => `connected_account:${account.id}:${account.workspaceId}:${column}`

/** Seals an account's tokens for its row. */
export function sealTokens(
  vault: Vault,
  account: Pick<ConnectedAccount, 'id' | 'workspaceId'>,
  tokens: Pick<OAuthTokens, 'accessToken' | 'refreshToken'>,
) {
  return {
    accessTokenSealed: vault.seal(tokens.accessToken, tokenContext(account, 'access_token')),
    refreshTokenSealed: tokens.refreshToken
      ? vault.seal(tokens.refreshToken, tokenContext(account, 'refresh_token'))
      : undefined,
  }
}
