import type { Logger } from '../logging/logger.ts'

/** One plain-text email. */
export interface MailMessage {
  to: string
  subject: string
  text: string
}

/**
 * Where emails go. The server sends through SMTP when `SMTP_URL` is set and otherwise writes them
 * to the log, for development. Pass your own to `createPostScheduler({ mailTransport })`.
 */
export interface MailTransport {
  send(message: MailMessage): Promise<void>
}

/**
 * Sends through an SMTP server (nodemailer).
 *
 * @example
 * ```ts
 * const mail = createSMTPTransport('smtps://user:pass@smtp.example.com:465', 'Post Scheduler <no-reply@example.com>')
 * ```
 */
export function createSMTPTransport(url: string, from: string): MailTransport {
  // Loaded on the first email, not at every start.
  const transport = import('nodemailer').then(({ createTransport }) => createTransport(url))
  transport.catch(() => {}) // reported by send()
  return {
    async send(message) {
      await (await transport).sendMail({ from, ...message })
    },
  }
}

/**
 * Writes each email to the log instead of sending it. For development only: the log then holds
 * one-time codes, so the server warns at start when it uses this transport.
 */
export function createLogTransport(logger: Logger): MailTransport {
  return {
    async send(message) {
      logger.info({ email: message }, `email to ${message.to} (not sent: SMTP_URL is not set)`)
    },
  }
}

/**
 * Sends an email after the change it announces is committed. A failing transport is logged, not
 * thrown: the change stands, and the person can ask for the email again.
 */
export async function deliver(
  services: { mail: MailTransport; logger: Logger },
  message: MailMessage,
): Promise<void> {
  try {
    await services.mail.send(message)
  } catch (error) {
    services.logger.error({ err: error, subject: message.subject }, 'email could not be sent')
  }
}
