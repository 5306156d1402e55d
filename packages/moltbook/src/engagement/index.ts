export * from './context.ts';
export * from './state.ts';
export * from './secondPost.ts';
export * from './replyMonitor.ts';
export * from './feedHeartbeat.ts';
export * from './scout.ts';
export * from './steps.ts';
export * from './llmReplyWriter.ts';
