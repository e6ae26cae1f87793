// The benchmark's mesh: N services, each with what a platform team typically declares.
import { App, Chart, Duration } from 'cdk8s';
import {
  HeaderMatch, HttpMethod, JwtAuth, Mesh, MeshService, RetryOn, Telemetry, TelemetryProvider,
} from '../src';

/** The namespace every benchmark service lives in. */
export const BENCH_NAMESPACE = 'bench';

/** Offsets of the callers of service i: services i+1, i+2 and i+3 (mod N) may call it. */
const CALLER_OFFSETS = [1, 2, 3];

/** Every tenth service requires an end-user JWT. */
const JWT_EVERY = 10;

/** A built (not yet synthesized) benchmark app. */
export interface BenchMesh {
  readonly app: App;
  readonly mesh: Mesh;
  readonly services: MeshService[];
  /** Declared caller → callee edges (each `allowFrom` also declares the call). */
  readonly edges: number;
}

/** Which synth-time checks the benchmark mesh runs (all, by default). */
export interface BenchChecks {
  readonly analyzeOnSynth?: boolean;
  readonly checkDeclarations?: boolean;
  readonly validateOnSynth?: boolean;
}

/**
 * One namespace of `n` services. Each service has two versions, a 90/10 weighted split, a
 * header-matched route to v2 with retries and a timeout, a circuit breaker, and is callable by
 * three other services (`allowFrom`, which also declares the caller's `callsTo`); every tenth
 * service requires a JWT (`JwtAuth` + `protect`). One namespace-wide Telemetry traces 10% of
 * requests to a Zipkin collector and logs failed requests. Sidecars are scoped (the default),
 * the namespace is default-deny (the default), and the synth-time analysis is on (the default).
 */
export function buildBenchMesh(n: number, options: BenchChecks = {}): BenchMesh {
  // `analyzeOnSynth: false` turns the analysis and the declarations' promises off (unless checkDeclarations says otherwise).
  if (n <= CALLER_OFFSETS.length) throw new Error(`the benchmark mesh needs more than ${CALLER_OFFSETS.length} services, got ${n}`);
  const app = new App();
  const chart = new Chart(app, 'bench', { namespace: BENCH_NAMESPACE });
  const jaeger = TelemetryProvider.zipkin({ name: 'jaeger', service: 'zipkin.istio-system.svc.cluster.local', port: 9411 });
  const mesh = new Mesh(chart, 'mesh', {
    namespaceName: BENCH_NAMESPACE,
    telemetryProviders: [jaeger],
    analyzeOnSynth: options.analyzeOnSynth,
    checkDeclarations: options.checkDeclarations ?? options.analyzeOnSynth,
    validateOnSynth: options.validateOnSynth,
  });

  const services: MeshService[] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    const service = new MeshService(chart, name, { mesh, name, image: `registry.example.com/${name}:1.0.0`, port: 8080 });
    const v2 = service.addVersion('v2', { image: `registry.example.com/${name}:2.0.0` });
    service.routeTraffic({
      matches: [{ headers: [HeaderMatch.exact('end-user', 'tester')] }],
      destinations: [{ version: v2 }],
      timeout: Duration.seconds(2),
      retry: { attempts: 3, perTryTimeout: Duration.millis(500), retryOn: [RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM, RetryOn.GATEWAY_ERROR] },
    });
    service.routeTraffic({ destinations: [{ version: service.defaultVersion, weight: 90 }, { version: v2, weight: 10 }] });
    service.addCircuitBreaker({
      connectionPool: { maxConnections: 100, maxPendingRequests: 50, maxRequestsPerConnection: 10 },
      outlierDetection: { consecutive5xxErrors: 5, interval: Duration.seconds(10), baseEjectionTime: Duration.seconds(30), maxEjectionPercent: 50 },
    });
    services.push(service);
  }

  let edges = 0;
  services.forEach((callee, i) => {
    for (const offset of CALLER_OFFSETS) {
      callee.allowFrom(services[(i + offset) % n], offset === 1 ? {} : { methods: [HttpMethod.GET] });
      edges++;
    }
    if (i % JWT_EVERY === 0) {
      const jwt = new JwtAuth(chart, `jwt-${callee.name}`, {
        mesh,
        target: callee,
        issuers: [{ issuer: 'https://id.example.com', jwksUri: 'https://id.example.com/.well-known/jwks.json' }],
      });
      jwt.protect(callee, { exceptPaths: ['/healthz'] });
    }
  });

  new Telemetry(chart, 'telemetry', {
    mesh,
    tracing: { providers: [jaeger], randomSamplingPercent: 10 },
    accessLogging: { providers: [TelemetryProvider.ENVOY], filter: 'response.code >= 400' },
  });
  return { app, mesh, services, edges };
}
