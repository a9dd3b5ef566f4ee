import {
  createClient,
  type Post,
  type PostCreateParams,
  PostSchedulerError,
  ValidationError,
} from '@post-scheduler/sdk'
import { uploadFromPath } from '@post-scheduler/sdk/node'

const apiKey = process.env.POST_SCHEDULER_API_KEY
if (!apiKey) throw new Error('Set POST_SCHEDULER_API_KEY (the server logs one on its first start)')

const client = createClient({
  apiKey,
  baseURL: process.env.POST_SCHEDULER_URL ?? 'http://127.0.0.1:3000',
  retry: { limit: 3, maxRetryAfterSeconds: 30 },
})

const [account] = await client.accounts.list({ status: 'active' }).toArray({ limit: 1 })
if (!account) throw new Error('Connect an account first (the sandbox needs no credentials)')

const mediaIds: string[] = []
if (process.env.PHOTO) {
  const photo = await uploadFromPath(client, process.env.PHOTO, {
    profileId: account.profileId,
    onProgress: ({ percent }) => process.stdout.write(`\ruploading ${Math.round(percent * 100)}%`),
  })
  mediaIds.push(photo.id)
}

const params: PostCreateParams = {
  profileId: account.profileId,
  accountIds: [account.id],
  content: { text: 'Hello from the SDK example', mediaIds },
  scheduledAt: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
  timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
}

let post: Post
try {
  post = await client.posts.create(params, {
    idempotencyKey: `example-${account.id}-${params.scheduledAt}`,
  })
} catch (error) {
  if (error instanceof ValidationError) {
    for (const issue of error.issues) console.error(`${issue.path.join('.')}: ${issue.message}`)
    process.exit(1)
  }
  if (error instanceof PostSchedulerError)
    console.error(`${error.code} (request ${error.requestId})`)
  throw error
}
console.log(`\nscheduled ${post.id} for ${post.scheduledAt}`)

for await (const scheduled of client.posts.list({ status: 'scheduled', limit: 50 })) {
  const targets = scheduled.publications.map((publication) => publication.status).join(', ')
  console.log(`${scheduled.scheduledAt}  ${scheduled.id}  ${targets}`)
}
