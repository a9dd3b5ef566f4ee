import { type CallOptions, type PostMetrics, readJSON } from '@post-scheduler/adapter-core'
import { z } from 'zod'
import { type LinkedInHTTPContext, PLATFORM, sendLinkedInRequest } from './http.ts'

const memberAnalyticsSchema = z.object({
  elements: z.array(z.looseObject({ count: z.number() })),
})

const count = z.number().optional()
const shareStatisticsSchema = z.object({
  elements: z.array(
    z.looseObject({
      share: z.string().optional(),
      ugcPost: z.string().optional(),
      totalShareStatistics: z
        .looseObject({
          impressionCount: count,
          clickCount: count,
          likeCount: count,
          commentCount: count,
          shareCount: count,
        })
        .default({}),
    }),
  ),
})

// One call per metric and post: memberCreatorPostAnalytics has no multi-metric query.
const MEMBER_METRICS = {
  impressions: 'IMPRESSION',
  likes: 'REACTION',
  comments: 'COMMENT',
  shares: 'RESHARE',
} as const

/**
 * A member's post numbers (`r_member_postAnalytics`): impressions, reactions, comments and
 * reshares, one `memberCreatorPostAnalytics` call each. An empty answer means no data yet; the
 * metric is then absent.
 *
 * https://learn.microsoft.com/en-us/linkedin/marketing/community-management/members/post-statistics
 */
export async function getMemberMetrics(
  context: LinkedInHTTPContext,
  call: { accessToken: string; platformPostIds: string[] },
  options: CallOptions,
): Promise<PostMetrics[]> {
  const results: PostMetrics[] = []
  for (const urn of call.platformPostIds) {
    const entry: PostMetrics = { platformPostId: urn, measuredAt: context.now() }
    const entity = `(${urn.startsWith('urn:li:ugcPost:') ? 'ugc' : 'share'}:${encodeURIComponent(urn)})`
    for (const [field, queryType] of Object.entries(MEMBER_METRICS)) {
      const response = await sendLinkedInRequest(
        context,
        {
          method: 'GET',
          url: `/rest/memberCreatorPostAnalytics?q=entity&entity=${entity}&queryType=${queryType}&aggregation=TOTAL`,
          accessToken: call.accessToken,
          versioned: true,
        },
        options,
      )
      const { elements } = await readJSON(response, memberAnalyticsSchema, PLATFORM)
      const total = elements[0]?.count
      if (total !== undefined) entry[field as keyof typeof MEMBER_METRICS] = total
    }
    results.push(entry)
  }
  return results
}

/**
 * An organization's post numbers (`rw_organization_admin`) from one
 * `organizationalEntityShareStatistics` call for every post (`shares=List(…)` and
 * `ugcPosts=List(…)`). Field names of `totalShareStatistics` are UNCONFIRMED; absent ones stay
 * absent.
 */
export async function getOrganizationMetrics(
  context: LinkedInHTTPContext,
  call: { accessToken: string; organization: string; platformPostIds: string[] },
  options: CallOptions,
): Promise<PostMetrics[]> {
  const list = (urns: string[]) => `List(${urns.map(encodeURIComponent).join(',')})`
  const ugcPosts = call.platformPostIds.filter((urn) => urn.startsWith('urn:li:ugcPost:'))
  const shares = call.platformPostIds.filter((urn) => !urn.startsWith('urn:li:ugcPost:'))
  const query = [
    'q=organizationalEntity',
    `organizationalEntity=${encodeURIComponent(call.organization)}`,
    ...(shares.length > 0 ? [`shares=${list(shares)}`] : []),
    ...(ugcPosts.length > 0 ? [`ugcPosts=${list(ugcPosts)}`] : []),
  ].join('&')
  const response = await sendLinkedInRequest(
    context,
    {
      method: 'GET',
      url: `/rest/organizationalEntityShareStatistics?${query}`,
      accessToken: call.accessToken,
      versioned: true,
    },
    options,
  )
  const { elements } = await readJSON(response, shareStatisticsSchema, PLATFORM)
  const measuredAt = context.now()
  return call.platformPostIds.map((urn) => {
    const statistics = elements.find(
      (element) => (element.share ?? element.ugcPost) === urn,
    )?.totalShareStatistics
    return {
      platformPostId: urn,
      impressions: statistics?.impressionCount,
      clicks: statistics?.clickCount,
      likes: statistics?.likeCount,
      comments: statistics?.commentCount,
      shares: statistics?.shareCount,
      measuredAt,
    }
  })
}
