import { ProblemError } from '../errors/problem.ts'
import type { Services } from '../services.ts'
import { findDataSubject, readPersonalData } from './inventory.ts'
import { getConsents } from './policy.ts'

/**
 * The access view of `GET /v1/me/data`: every table's rows about the person or owned by them,
 * without credentials, and their consents. Audit entries include reads of their data by others.
 *
 * @throws {ProblemError} `UNAUTHENTICATED` when the account no longer exists.
 */
export async function readAccessView(services: Pick<Services, 'db'>, userId: string) {
  const subject = await findDataSubject(services.db, userId)
  if (!subject) throw new ProblemError('UNAUTHENTICATED', 'This account no longer exists')
  const now = new Date()
  return {
    generatedAt: now.toISOString(),
    consents: await getConsents(services.db, userId, now),
    data: await readPersonalData(services.db, subject),
  }
}
