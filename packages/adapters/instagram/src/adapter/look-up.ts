import type { CallOptions } from '@post-scheduler/adapter-core'
import { z } from 'zod'
import type { GraphClient } from './graph.ts'

export const containerStatusSchema = z.object({
  id: z.coerce.string(),
  status_code: z.enum(['EXPIRED', 'ERROR', 'FINISHED', 'IN_PROGRESS', 'PUBLISHED']),
  status: z.string().optional(),
})

export type ContainerStatus = z.output<typeof containerStatusSchema>

/** `GET /{container}?fields=status_code,status`: the container's state. */
export function readContainerStatus(
  graph: GraphClient,
  containerId: string,
  options?: CallOptions,
): Promise<ContainerStatus> {
  return graph.get(
    `/${encodeURIComponent(containerId)}`,
    { fields: 'status_code,status' },
    containerStatusSchema,
    options,
  )
}

const recentSchema = z.object({
  data: z.array(
    z.object({
      id: z.coerce.string(),
      caption: z.string().optional(),
      timestamp: z.string().optional(),
      permalink: z.string().optional(),
    }),
  ),
})

/** What publish saved about the container, to recognise its post among the recent media. */
export interface ContainerHandles {
  containerId: string
  /** When the container was created (ISO 8601). */
  createdAt: string
  /** The caption sent ('' for a story). */
  caption: string
  placement: 'feed' | 'story'
  /** The first comment to post once the post is public (a check publishes it, not `publish`). */
  firstComment?: string
}

/**
 * Finds the post a `PUBLISHED` container made. The container does not name its media (W2.1), so
 * the post is the account's one media published since the container was created with the same
 * caption (stories: the one story since then). Two candidates, or none yet: `undefined`, never a
 * guess.
 */
export async function findPublishedMedia(
  graph: GraphClient,
  accountId: string,
  handles: ContainerHandles,
  options?: CallOptions,
): Promise<{ id: string; permalink: string | undefined } | undefined> {
  const createdAt = Date.parse(handles.createdAt)
  const since = Math.floor(createdAt / 1000) - 60
  const edge = handles.placement === 'story' ? 'stories' : 'media'
  const { data } = await graph.get(
    `/${encodeURIComponent(accountId)}/${edge}`,
    {
      fields: 'id,caption,timestamp,permalink',
      ...(edge === 'media' ? { since: String(since) } : {}),
      limit: '50',
    },
    recentSchema,
    options,
  )
  const candidates = data.filter(
    (media) =>
      (media.timestamp === undefined || Date.parse(media.timestamp) >= since * 1000) &&
      (handles.placement === 'story' || (media.caption ?? '') === handles.caption),
  )
  const [only] = candidates
  return candidates.length === 1 && only ? { id: only.id, permalink: only.permalink } : undefined
}
