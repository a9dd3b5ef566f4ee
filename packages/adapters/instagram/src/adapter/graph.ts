import { type CallOptions, readJSON } from '@post-scheduler/adapter-core'
import { z } from 'zod'
import { PLATFORM, sendGraphRequest } from './http.ts'

/** Which login the app uses; it decides the Graph host and what the account can do. */
export type InstagramLogin = 'instagram' | 'facebook'

/** A Graph API client bound to one host, version and token. */
export interface GraphClient {
  get<Schema extends z.ZodType>(
    path: string,
    params: Record<string, string>,
    schema: Schema,
    options?: CallOptions,
  ): Promise<z.output<Schema>>
  post<Schema extends z.ZodType>(
    path: string,
    params: Record<string, string>,
    schema: Schema,
    options?: CallOptions & { irreversible?: boolean },
  ): Promise<z.output<Schema>>
  delete(path: string, options?: CallOptions): Promise<void>
}

export function graphHost(login: InstagramLogin): string {
  return login === 'instagram' ? 'https://graph.instagram.com' : 'https://graph.facebook.com'
}

// The token travels as the `access_token` parameter, Graph style, on both hosts.
export function createGraphClient(
  login: InstagramLogin,
  version: string,
  accessToken: string,
): GraphClient {
  const base = `${graphHost(login)}/${version}`
  const url = (path: string, params: Record<string, string> = {}) =>
    `${base}${path}?${new URLSearchParams(params)}`
  return {
    async get(path, params, schema, options) {
      const response = await sendGraphRequest(
        { method: 'GET', url: url(path, { ...params, access_token: accessToken }) },
        options,
      )
      return readJSON(response, schema, PLATFORM)
    },
    async post(path, params, schema, options) {
      const response = await sendGraphRequest(
        {
          method: 'POST',
          url: url(path),
          form: { ...params, access_token: accessToken },
          irreversible: options?.irreversible ?? false,
        },
        options,
      )
      return readJSON(response, schema, PLATFORM)
    },
    async delete(path, options) {
      await sendGraphRequest(
        { method: 'DELETE', url: url(path, { access_token: accessToken }) },
        options,
      )
    },
  }
}

export const idSchema = z.object({ id: z.coerce.string().min(1) })
