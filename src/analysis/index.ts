// Public API of the manifest analysis. Everything else in this folder is internal.
export * from './finding';
export * from './options';
export * from './analysis';
export * from './simulator';
export * from './graph';
