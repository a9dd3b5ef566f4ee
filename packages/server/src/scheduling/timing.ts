import type { Issue } from '../errors/problem.ts'
import { checkSeries, parseRecurrenceRule } from './recurrence.ts'

/** The timing part of a post creation request that scheduling looks at. */
export interface TimingInput {
  scheduledAt?: string | undefined
  timezone?: string | undefined
  publishNow?: boolean | undefined
  draft?: boolean | undefined
  /** Take the next free slot of the profile's posting schedule. */
  queue?: boolean | undefined
  /** Repeat the post: an RRULE evaluated in `timezone` from `scheduledAt`. */
  recurrence?: { rule: string } | undefined
}

const issue = (path: (string | number)[], code: string, message: string): Issue => ({
  location: 'body',
  path,
  code,
  message,
})

/**
 * Checks `queue` and `recurrence` against the rest of a post's timing. `queue` excludes
 * `scheduledAt`, `publishNow` and `draft`; `recurrence` needs `scheduledAt` (its start, read in
 * `timezone`) and a rule {@link checkSeries} accepts.
 *
 * @returns the issues, and for a recurrence its first occurrence — the time of the post created
 * now, which is `scheduledAt` itself unless the rule first matches later.
 * @example
 * ```ts
 * const { issues, firstAt } = planTiming({ scheduledAt, timezone: 'Europe/Berlin', recurrence: { rule: 'FREQ=DAILY;COUNT=5' } })
 * ```
 */
export function planTiming(input: TimingInput): { issues: Issue[]; firstAt?: Date } {
  const issues: Issue[] = []
  if (input.queue) {
    if (input.scheduledAt !== undefined || input.publishNow || input.draft) {
      issues.push(
        issue(['queue'], 'conflicting_timing', 'queue excludes scheduledAt, publishNow and draft'),
      )
    }
  }
  if (!input.recurrence) return { issues }
  if (input.scheduledAt === undefined || input.publishNow || input.draft || input.queue) {
    issues.push(
      issue(
        ['recurrence'],
        'recurrence_needs_scheduled_at',
        'A recurring post starts at scheduledAt (with its timezone); remove publishNow, draft or queue',
      ),
    )
    return { issues }
  }
  const parsed = parseRecurrenceRule(input.recurrence.rule)
  const checked = parsed.rule
    ? checkSeries({
        rule: parsed.rule,
        timezone: input.timezone ?? 'UTC',
        startsAt: new Date(input.scheduledAt),
      })
    : { issues: parsed.issues }
  for (const found of checked.issues) {
    issues.push(issue(['recurrence', 'rule'], found.code, found.message))
  }
  return {
    issues,
    ...(checked.issues.length === 0 && 'first' in checked && { firstAt: checked.first }),
  }
}
