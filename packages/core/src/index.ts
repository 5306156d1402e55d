export * from './errors.ts';
export * from './clock.ts';
export * from './logger.ts';
export * from './config.ts';
export * from './retry.ts';
export * from './jsonDiff.ts';
export * from './schemas.ts';
