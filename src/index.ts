export * as istio from './istio';
export * from './mesh/dataplane';
export * from './mesh/mesh';
export * from './mesh/mesh-service';
export * from './mesh/protocol';
export * from './mesh/service-version';
export * from './mesh/workload-target';
export * from './security/mtls-mode';
