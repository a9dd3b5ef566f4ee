/**
 * Node-only helpers: uploading a file from a path without reading it into memory.
 */

import { openAsBlob } from 'node:fs'
import { basename } from 'node:path'
import type { MediaUploadParams, PostSchedulerClient, RequestOptions } from './client.ts'
import type { Media } from './types.ts'

/**
 * Uploads the file at `path` (streamed from disk; resumable above 16 MiB), named after it unless
 * `params.filename` says otherwise.
 *
 * @example
 * ```ts
 * import { uploadFromPath } from '@post-scheduler/sdk/node'
 *
 * const media = await uploadFromPath(client, './launch.mp4', {
 *   onProgress: ({ percent }) => console.log(`${Math.round(percent * 100)}%`),
 * })
 * ```
 */
export async function uploadFromPath(
  client: PostSchedulerClient,
  path: string,
  params: MediaUploadParams = {},
  options?: RequestOptions,
): Promise<Media> {
  const blob = await openAsBlob(path)
  return client.media.upload(blob, { filename: basename(path), ...params }, options)
}
