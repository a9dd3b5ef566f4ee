/** Names the API reads from requests, shared by the middleware that read them and by CORS. */

/** Name of the session cookie browsers get at sign-in. */
export const SESSION_COOKIE = 'ps_session'

/** Header a signed-in person uses to say which of their workspaces a request is about. */
export const WORKSPACE_HEADER = 'Post-Scheduler-Workspace'
