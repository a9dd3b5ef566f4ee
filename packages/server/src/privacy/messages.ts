import type { MailMessage } from '../mail/transport.ts'

/** The emails of the data-rights features, as plain text. */
export const privacyMessages = {
  exportReady: (to: string, exportId: string, expiresAt: Date): MailMessage => ({
    to,
    subject: 'Your data export is ready',
    text: `The export of your Post Scheduler data is ready until ${expiresAt.toISOString()}.\n\nGET /v1/me/exports/${exportId} while signed in for a download link (each link works for a few minutes; ask again for a new one).\nIf you did not ask for it, change your password: someone signed in to your account did.`,
  }),
  deletionScheduled: (
    to: string,
    eraseAt: Date,
    workspaces: { id: string; name: string }[],
  ): MailMessage => ({
    to,
    subject: 'Your account will be deleted',
    text: `Your Post Scheduler account and its data will be erased on ${eraseAt.toISOString()}.\n\n${
      workspaces.length > 0
        ? `These workspaces, which you own and nobody else belongs to, will be deleted with it — their profiles, connected accounts, posts, media, API keys and webhooks: ${workspaces.map((workspace) => `“${workspace.name}” (${workspace.id})`).join(', ')}. To keep one, invite the person who should take it over and make them its owner before then.`
        : 'No workspace will be deleted: you will leave the ones you belong to, and what you made there stays with them.'
    }\n\nChanged your mind? Sign in and DELETE /v1/me/deletion before then.\nIf you did not ask for this, sign in, cancel it and change your password.`,
  }),
  deletionCanceled: (to: string): MailMessage => ({
    to,
    subject: 'Your account will not be deleted',
    text: 'The deletion of your Post Scheduler account was canceled; everything stays as it was.',
  }),
  policyUpdated: (
    to: string,
    policy: { version: number; effectiveAt: Date; summary: string },
  ): MailMessage => ({
    to,
    subject: 'Our privacy policy is changing',
    text: `Version ${policy.version} of the Post Scheduler privacy policy takes effect on ${policy.effectiveAt.toISOString()}.\n\nWhat changes: ${policy.summary}\n\nRead it at GET /v1/privacy-policy, and tell us you have seen it with POST /v1/me/consents {"purpose": "privacy_policy", "granted": true}. Using Post Scheduler after that date means accepting it; you can export your data or delete your account at any time.`,
  }),
}
