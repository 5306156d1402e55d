export * from './client.ts';
export * from './embedded.ts';
export * from './migrations.ts';
export * from './seeds.ts';
export * from './transient.ts';
export * from './sqlRunner.ts';
