import type { MailMessage } from './transport.ts'

/**
 * The emails Post Scheduler sends, as plain text. One-time codes are sent as codes: the
 * embedding product or the API client posts them back to the API.
 */
export const messages = {
  verifyEmail: (to: string, code: string): MailMessage => ({
    to,
    subject: 'Confirm your email address',
    text: `Confirm this address for your Post Scheduler account with this code (valid for 24 hours):\n\n${code}\n\nPOST it to /v1/users/verify-email as {"token": "<code>"}.\nIf you did not sign up, ignore this email.`,
  }),
  alreadyRegistered: (to: string): MailMessage => ({
    to,
    subject: 'Someone tried to sign up with your address',
    text: 'Someone (perhaps you) tried to create a Post Scheduler account with this address, which already has one. Sign in, or reset your password if you forgot it. If it was not you, no action is needed.',
  }),
  resetPassword: (to: string, code: string): MailMessage => ({
    to,
    subject: 'Reset your password',
    text: `Reset your Post Scheduler password with this code (valid for 1 hour):\n\n${code}\n\nPOST it to /v1/password-resets/confirm with your new password.\nIf you did not ask for this, ignore this email: your password stays as it is.`,
  }),
  passwordChanged: (to: string): MailMessage => ({
    to,
    subject: 'Your password was changed',
    text: 'The password of your Post Scheduler account was just changed and your other sessions were signed out. If this was not you, reset your password now.',
  }),
  newDevice: (to: string, device: { userAgent: string; ip: string; at: Date }): MailMessage => ({
    to,
    subject: 'New sign-in to your account',
    text: `Your Post Scheduler account was signed in to from a new device.\n\nDevice: ${device.userAgent}\nAddress: ${device.ip}\nTime: ${device.at.toISOString()}\n\nIf this was not you, change your password and revoke the session.`,
  }),
  confirmNewEmail: (to: string, code: string): MailMessage => ({
    to,
    subject: 'Confirm your new email address',
    text: `Confirm ${to} as the new address of your Post Scheduler account with this code (valid for 24 hours):\n\n${code}\n\nPOST it to /v1/users/verify-email as {"token": "<code>"}.`,
  }),
  emailChangeRequested: (to: string, newEmail: string): MailMessage => ({
    to,
    subject: 'Your email address is being changed',
    text: `Someone signed in to your Post Scheduler account asked to change its address to ${newEmail}. It changes once the new address is confirmed. If this was not you, change your password now.`,
  }),
  emailChanged: (to: string, newEmail: string): MailMessage => ({
    to,
    subject: 'Your email address was changed',
    text: `The address of your Post Scheduler account is now ${newEmail}. If this was not you, contact your workspace owner.`,
  }),
  apiKeyCreated: (to: string, key: { name: string; workspace: string }): MailMessage => ({
    to,
    subject: 'A new API key was created',
    text: `An API key named "${key.name}" was created in the workspace "${key.workspace}". If you did not expect it, revoke it in the workspace's API keys.`,
  }),
  invitation: (
    to: string,
    invite: { workspace: string; role: string; code: string },
  ): MailMessage => ({
    to,
    subject: `You are invited to ${invite.workspace} on Post Scheduler`,
    text: `You are invited to join the workspace "${invite.workspace}" as ${invite.role}. Sign in (or sign up with this address), then accept with this code (valid for 7 days):\n\n${invite.code}\n\nPOST it to /v1/invitations/accept as {"token": "<code>"}.`,
  }),
  accountNeedsReconnection: (
    to: string,
    account: { platform: string; name: string },
  ): MailMessage => ({
    to,
    subject: `Reconnect ${account.name} (${account.platform})`,
    text: `Post Scheduler can no longer use the ${account.platform} account "${account.name}": its access has expired or was withdrawn. Nothing can be published to it until it is reconnected from your app.`,
  }),
  webhookEndpointDisabled: (
    to: string,
    endpoint: { workspace: string; url: string; endpointId: string; reason: 'gone' | 'failing' },
  ): MailMessage => ({
    to,
    subject: `Webhook endpoint disabled in ${endpoint.workspace}`,
    text: `Post Scheduler stopped sending events to ${endpoint.url} (${endpoint.endpointId}) in the workspace "${endpoint.workspace}": ${endpoint.reason === 'gone' ? 'it answered 410 Gone, which asks us to stop' : 'every delivery to it has failed for three days'}. Events are still recorded. Fix the receiver, enable the endpoint again (PATCH /v1/webhook-endpoints/${endpoint.endpointId} with {"enabled": true}), then redeliver what it missed (POST /v1/webhook-endpoints/${endpoint.endpointId}/redeliver with {"since": "<time>"}).`,
  }),
}
