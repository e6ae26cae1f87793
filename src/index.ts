export * as istio from './istio';
