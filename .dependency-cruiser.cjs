// The import rules of the repository, checked by `pnpm lint` (docs/development.md, "Layers").
// Paths are matched from the repository root; `test/dependency-rules.test.ts` in the server
// package proves each rule catches a bad import in a fixture laid out like the repository.

/** The server's request kit and what lies below it: they serve every domain and know none. */
const KIT = '(^|/)packages/server/src/(http|db|errors|logging|config|outbound|mail|jobs|vault)/'
/** The assembly: the app, the workers' list, the lifecycle and the entry points (`testing` too). */
const APP =
  '(^|/)packages/server/src/(app/|testing/|post-scheduler\\.ts$|cli\\.ts$|index\\.ts$|testing\\.ts$)'
const SERVER_SRC = '(^|/)packages/server/src/'
/** The shape of a request's context (its services, its caller): the kit types its router with it. */
const REQUEST_CONTEXT = '(^|/)packages/server/src/(services\\.ts|auth/principal\\.ts)$'
/** The packages published apart from the server. */
const PUBLISHED = '(^|/)packages/(adapters/[^/]+|sdk|react-widgets)/'
/** Files that are HTTP by their job: route modules and middleware (and their tests). */
const HTTP_FILES = '(routes|middleware)(\\.test)?\\.ts$'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle means two modules are one; merge them or move what both need below both.',
      severity: 'error',
      from: { path: '(^|/)packages/' },
      to: { circular: true },
    },
    {
      name: 'kit-imports-no-domain',
      comment:
        'The request kit (http/), the database layer and the other shared kits serve every domain; a kit importing a domain turns the layers upside down. Move the shared fact down into the kit.',
      severity: 'error',
      from: { path: KIT, pathNot: '\\.test\\.ts$' },
      to: { path: SERVER_SRC, pathNot: [KIT, REQUEST_CONTEXT] },
    },
    {
      name: 'kit-knows-the-request-context-as-types-only',
      comment:
        "The router's context variables are typed with the services and the caller (services.ts, auth/principal.ts); the kit may name those types, never run their code.",
      severity: 'error',
      from: { path: KIT },
      to: { path: REQUEST_CONTEXT, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-domain-imports-the-app',
      comment:
        'Only the assembly (app/, post-scheduler.ts, cli.ts, index.ts) and tests may import the assembly; a domain that needs something from it needs it moved down.',
      severity: 'error',
      from: { path: SERVER_SRC, pathNot: [APP, '\\.test\\.ts$'] },
      to: { path: APP },
    },
    {
      name: 'services-import-no-hono',
      comment:
        'Services know nothing of HTTP: only route modules, middleware, the request kit and the app import hono. Pass plain values in, throw ProblemError out.',
      severity: 'error',
      from: {
        path: SERVER_SRC,
        pathNot: ['(^|/)packages/server/src/http/', APP, HTTP_FILES],
      },
      to: { path: '(^|/)node_modules/(hono|@hono/[^/]+)/' },
    },
    {
      name: 'packages-never-import-the-server',
      comment:
        'Adapters, the SDK and the widgets are published on their own and run without the server: their sources never import it.',
      severity: 'error',
      from: { path: PUBLISHED, pathNot: '(^|/)(test|testing)/|\\.test\\.tsx?$' },
      to: { path: '(^|/)packages/server/' },
    },
    {
      name: 'tests-reach-the-server-through-its-entries',
      comment:
        "Other packages' tests start the server through its published entries (`@post-scheduler/server`, `/testing`), never by a path into its sources or test folder.",
      severity: 'error',
      from: { path: PUBLISHED },
      to: { path: '(^|/)packages/server/', pathNot: '(^|/)packages/server/dist/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|specs|test/fixtures/dependency-rules)/' },
    tsPreCompilationDeps: true,
    parser: 'swc',
  },
}
