import { createServer } from 'node:http'
import { verifyWebhook, type WebhookEvent, WebhookVerificationError } from '@post-scheduler/sdk'

const secret = process.env.WEBHOOK_SECRET
if (!secret) throw new Error('Set WEBHOOK_SECRET to the endpoint’s whsec_… secret')

function handle(event: WebhookEvent) {
  console.log(`${event.timestamp} ${event.type}`)
}

// The raw body is what was signed: read it whole before parsing anything.
createServer(async (request, response) => {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  try {
    handle(await verifyWebhook(Buffer.concat(chunks), request.headers, secret))
    response.writeHead(204).end()
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error
    response.writeHead(400).end(error.message)
  }
}).listen(Number(process.env.PORT ?? 4000))
