import { eq, sql } from 'drizzle-orm'
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core'
import { attemptContext } from '../../connections/service.ts'
import { tokenContext } from '../../connections/tokens.ts'
import type { Database } from '../../db/client.ts'
import {
  connectedAccounts,
  connectionAttempts,
  idempotencyKeys,
  oauthApps,
  webhookEndpoints,
} from '../../db/schema/index.ts'
import { idempotencyContext } from '../../http/idempotency.ts'
import { secretContext } from '../../platforms/service.ts'
import type { Vault } from '../../vault/vault.ts'
import { secretContext as webhookSecretContext } from '../../webhooks/delivery.ts'

/** A column of vault envelopes, with how to rebuild each row's context. */
interface SealedColumn<Row> {
  table: PgTable
  column: PgColumn
  field: keyof Row & string
  key: (row: Row) => ReturnType<typeof eq>
  context: (row: Row) => string
}

type AccountRow = typeof connectedAccounts.$inferSelect
type AppRow = typeof oauthApps.$inferSelect
type AttemptRow = typeof connectionAttempts.$inferSelect
type IdempotencyRow = typeof idempotencyKeys.$inferSelect
type EndpointRow = typeof webhookEndpoints.$inferSelect

/** Erases the row type, so columns of different tables fit in one list. */
const sealedColumn = <Row>(spec: SealedColumn<Row>) =>
  spec as unknown as SealedColumn<Record<string, unknown>>

/** Every column that holds vault envelopes. A new sealed column must be listed here. */
const SEALED_COLUMNS = [
  sealedColumn({
    table: connectedAccounts,
    column: connectedAccounts.accessTokenSealed,
    field: 'accessTokenSealed',
    key: (row: AccountRow) => eq(connectedAccounts.id, row.id),
    context: (row: AccountRow) => tokenContext(row, 'access_token'),
  }),
  sealedColumn({
    table: connectedAccounts,
    column: connectedAccounts.refreshTokenSealed,
    field: 'refreshTokenSealed',
    key: (row: AccountRow) => eq(connectedAccounts.id, row.id),
    context: (row: AccountRow) => tokenContext(row, 'refresh_token'),
  }),
  sealedColumn({
    table: oauthApps,
    column: oauthApps.clientSecretSealed,
    field: 'clientSecretSealed',
    key: (row: AppRow) =>
      sql`${oauthApps.workspaceId} = ${row.workspaceId} and ${oauthApps.platform} = ${row.platform}`,
    context: (row: AppRow) => secretContext(row.workspaceId, row.platform),
  }),
  sealedColumn({
    table: connectionAttempts,
    column: connectionAttempts.codeVerifierSealed,
    field: 'codeVerifierSealed',
    key: (row: AttemptRow) => eq(connectionAttempts.id, row.id),
    context: (row: AttemptRow) => attemptContext(row, 'code_verifier'),
  }),
  sealedColumn({
    table: connectionAttempts,
    column: connectionAttempts.tokensSealed,
    field: 'tokensSealed',
    key: (row: AttemptRow) => eq(connectionAttempts.id, row.id),
    context: (row: AttemptRow) => attemptContext(row, 'tokens'),
  }),
  sealedColumn({
    table: idempotencyKeys,
    column: idempotencyKeys.responseBody,
    field: 'responseBody',
    key: (row: IdempotencyRow) =>
      sql`${idempotencyKeys.scope} = ${row.scope} and ${idempotencyKeys.key} = ${row.key}`,
    context: (row: IdempotencyRow) => idempotencyContext(row.scope, row.key),
  }),
  sealedColumn({
    table: webhookEndpoints,
    column: webhookEndpoints.secretSealed,
    field: 'secretSealed',
    key: (row: EndpointRow) => eq(webhookEndpoints.id, row.id),
    context: (row: EndpointRow) => webhookSecretContext(row, 'secret'),
  }),
  sealedColumn({
    table: webhookEndpoints,
    column: webhookEndpoints.previousSecretSealed,
    field: 'previousSecretSealed',
    key: (row: EndpointRow) => eq(webhookEndpoints.id, row.id),
    context: (row: EndpointRow) => webhookSecretContext(row, 'previous_secret'),
  }),
]

/**
 * Re-seals every envelope not sealed with the vault's primary key, in batches of `batchSize`
 * rows, each batch in its own short transaction with its rows locked (`FOR UPDATE`, waiting for a
 * concurrent writer rather than skipping its row), so the server keeps reading and writing
 * meanwhile and no concurrent write is lost. Run it after
 * deploying a new key first in `ENCRYPTION_KEYS`; remove the old key once it reports nothing left.
 *
 * @returns how many envelopes were re-sealed.
 */
export async function rotateKeys(
  db: Database,
  vault: Vault,
  options: { batchSize?: number; onProgress?: (resealed: number) => void } = {},
): Promise<{ resealed: number }> {
  const batchSize = options.batchSize ?? 200
  let resealed = 0
  for (const sealed of SEALED_COLUMNS) {
    for (;;) {
      const count = await db.transaction(async (tx) => {
        const rows = (await tx
          .select()
          .from(sealed.table)
          .where(
            sql`${sealed.column} is not null and split_part(${sealed.column}, '.', 2) <> ${vault.primaryKeyId}`,
          )
          .limit(batchSize)
          .for('update')) as Record<string, unknown>[]
        for (const row of rows) {
          const envelope = row[sealed.field] as string
          const context = sealed.context(row)
          await tx
            .update(sealed.table)
            .set({ [sealed.field]: vault.seal(vault.open(envelope, context), context) })
            .where(sealed.key(row))
        }
        return rows.length
      })
      if (count === 0) break
      resealed += count
      options.onProgress?.(resealed)
    }
  }
  return { resealed }
}
