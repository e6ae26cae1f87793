// The request simulator's engine lives in ./simulator/engine.ts; this module keeps the older import path.
export { SimulatorEngine } from './simulator/engine';
export { targetPortOf } from './simulator/destination';
