/**
 * The building blocks of platform emulators on msw (needs the `msw` peer, not `vitest`), so an
 * adapter package's emulator can be used outside a test runner: in a dev server, a demo, a
 * Playwright run. It also holds the spec checks emulators validate requests with: Meta Graph API
 * node specs and Google discovery documents turned into request validators. `./testing`
 * re-exports all of it beside the conformance suite.
 *
 * @module
 */

export {
  createDiscoveryValidator,
  createGoogleErrorBody,
  type DiscoveryDocument,
  type DiscoveryIssue,
  type DiscoveryMatch,
  type DiscoveryMethod,
  type DiscoveryParameter,
  type DiscoveryResource,
  type DiscoverySchema,
  type DiscoveryValidator,
  type DiscoveryValidatorOptions,
} from './testing/discovery-spec.ts'
export {
  createEmulatorKit,
  createRateLimitHeaders,
  type EmulatedGrant,
  type EmulatedTokenResponse,
  type EmulatorFault,
  type EmulatorKit,
  type FaultMatch,
  hangUntilAborted,
  type LoggedRequest,
} from './testing/emulator-kit.ts'
export {
  createGraphErrorBody,
  createGraphSpecValidator,
  GRAPH_GENERAL_PARAMETERS,
  type GraphDocumentedEdge,
  type GraphEdgeSpec,
  type GraphEnumType,
  type GraphIssue,
  type GraphIssueReason,
  type GraphNodeSpec,
  type GraphParamSpec,
  type GraphPath,
  type GraphRequestShape,
  type GraphSpecValidator,
  type GraphSpecValidatorOptions,
  parseGraphPath,
  readGraphParameters,
} from './testing/graph-spec.ts'
export {
  createSpecInspector,
  type DecodedBody,
  readRequestBody,
  type SpecCheckResult,
  type SpecInspector,
} from './testing/request-body.ts'
