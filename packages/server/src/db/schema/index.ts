export * from './connections.ts'
export * from './identity.ts'
export * from './media.ts'
export { postScheduler } from './namespace.ts'
