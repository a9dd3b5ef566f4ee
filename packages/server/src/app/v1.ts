import { apiKeyRoutes } from '../api-keys/routes.ts'
import { auditRoutes } from '../audit/routes.ts'
import { connectionRoutes } from '../connections/routes.ts'
import { eventRoutes } from '../events/routes.ts'
import { createRouter } from '../http/router.ts'
import { mediaRoutes } from '../media/routes.ts'
import { memberRoutes } from '../members/routes.ts'
import { platformRoutes } from '../platforms/routes.ts'
import { postRoutes } from '../posts/routes.ts'
import { publishingSettingsRoutes } from '../posts/settings-routes.ts'
import { privacyRoutes } from '../privacy/routes.ts'
import { profileRoutes } from '../profiles/routes.ts'
import { sandboxRoutes } from '../sandbox/routes.ts'
import { schedulingRoutes } from '../scheduling/routes.ts'
import { sessionRoutes } from '../sessions/routes.ts'
import { usageTracking } from '../usage/middleware.ts'
import { usageRoutes } from '../usage/routes.ts'
import { userRoutes } from '../users/routes.ts'
import { webhookRoutes } from '../webhooks/routes.ts'
import { workspaceRoutes } from '../workspaces/routes.ts'

/**
 * Every `/v1` route module, in one list. Each module is a router from `createRouter()` whose
 * paths are relative to `/v1`.
 */
export function v1Routes() {
  return createRouter()
    .use('*', usageTracking())
    .route('/', userRoutes())
    .route('/', sessionRoutes())
    .route('/', workspaceRoutes())
    .route('/', apiKeyRoutes())
    .route('/', memberRoutes())
    .route('/', profileRoutes())
    .route('/', auditRoutes())
    .route('/', platformRoutes())
    .route('/', connectionRoutes())
    .route('/', mediaRoutes())
    .route('/', postRoutes())
    .route('/', sandboxRoutes())
    .route('/', publishingSettingsRoutes())
    .route('/', schedulingRoutes())
    .route('/', eventRoutes())
    .route('/', webhookRoutes())
    .route('/', privacyRoutes())
    .route('/', usageRoutes())
}
