export * from './connections.ts'
export * from './identity.ts'
export { postScheduler } from './namespace.ts'
