// Requests that stand for what a set of authorization policies admits: one per operation of their ALLOW rules, plus
// probes. Used to draw who may call whom and to check declared calls: a caller admitted only for `POST /orders` is
// found by trying `POST /orders`, not `GET /`.
import { JwtToken } from './types';
import { Res } from '../manifests';

/** Methods that stand for "any method" when all three get through. */
export const PROBE_METHODS = ['GET', 'POST', 'DELETE'];

/** One representative request per operation of the ALLOW rules (method, a path the pattern matches, a Service port), plus the probes `GET /`, `POST /` and `DELETE /`. */
export function exampleRequests(policies: Res[], svc: Res): Array<{ method: string; path: string; port?: number; probe?: boolean }> {
  const out = new Map<string, { method: string; path: string; port?: number; probe?: boolean }>();
  const add = (method: string, path: string, port?: number, probe?: boolean) => {
    const key = `${method} ${path} ${port ?? ''}`;
    if (!out.has(key) || probe) out.set(key, { method, path, port, probe: probe || out.get(key)?.probe });
  };
  for (const m of PROBE_METHODS) add(m, '/', undefined, true);
  const servicePorts: any[] = Array.isArray(svc.spec.ports) ? svc.spec.ports : [];
  for (const p of policies) {
    if ((p.spec.action ?? 'ALLOW') !== 'ALLOW') continue;
    for (const rule of Array.isArray(p.spec.rules) ? p.spec.rules : []) {
      for (const t of Array.isArray(rule?.to) && rule.to.length ? rule.to : [{}]) {
        const op = t?.operation ?? {};
        // An operation without methods admits any: the three probe methods stand for that.
        const any = !(Array.isArray(op.methods) && op.methods.length);
        const methods: string[] = any ? PROBE_METHODS : op.methods.filter((m: any) => typeof m === 'string' && !m.includes('*'));
        const paths: string[] = Array.isArray(op.paths) && op.paths.length ? op.paths.map(String) : ['/'];
        const ports: number[] = Array.isArray(op.ports) && op.ports.length ? op.ports.map(Number) : [];
        const servicePort = ports.length ? servicePorts.find((sp) => ports.includes(Number(sp?.targetPort ?? sp?.port)))?.port : undefined;
        for (const m of methods.slice(0, 4)) add(m, examplePath(paths[0]), servicePort, any);
      }
    }
  }
  return [...out.values()].slice(0, 16);
}

/** A path an authorization path pattern matches: `/api*` → `/api`, `*.html` → `/index.html`, `/a/{*}/b` → `/a/x/b`. */
export function examplePath(pattern: string): string {
  if (pattern === '*') return '/';
  if (pattern.startsWith('*')) return `/index${pattern.slice(1)}`;
  const p = pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
  return (p.startsWith('/') ? p : `/${p}`).replace(/\{\*\*\}/g, 'x').replace(/\{\*\}/g, 'x');
}


/**
 * Valid tokens that stand for what RequestAuthentications accept and what policies then ask of them: one per issuer,
 * with the subject, audience and claims the policies name (`requestPrincipals` `<iss>/<sub>`, `request.auth.claims[x]`
 * values; for a DENY, the value it spares). A declared call to a JWT-protected service carries the caller's token.
 */
export function exampleTokens(requestAuthentications: Res[], policies: Res[]): JwtToken[] {
  const claims: Record<string, unknown> = {};
  const principals: string[] = [];
  for (const p of policies) {
    const deny = p.spec.action === 'DENY';
    for (const rule of Array.isArray(p.spec.rules) ? p.spec.rules : []) {
      for (const f of Array.isArray(rule?.from) ? rule.from : []) {
        for (const v of Array.isArray(f?.source?.requestPrincipals) ? f.source.requestPrincipals : []) principals.push(String(v));
      }
      for (const c of Array.isArray(rule?.when) ? rule.when : []) {
        const m = /^request\.auth\.claims\[([^\]]+)\]$/.exec(String(c?.key ?? ''));
        const wanted = deny ? c?.notValues : c?.values;
        if (m && Array.isArray(wanted) && wanted.length && !(m[1] in claims)) claims[m[1]] = [String(wanted[0])];
      }
    }
  }
  const out: JwtToken[] = [];
  for (const ra of requestAuthentications) {
    for (const rule of Array.isArray(ra.spec.jwtRules) ? ra.spec.jwtRules : []) {
      if (typeof rule?.issuer !== 'string') continue;
      const named = principals.find((v) => v.startsWith(`${rule.issuer}/`) && !v.endsWith('*'));
      const header = Array.isArray(rule.fromHeaders) && rule.fromHeaders[0]?.name ? `header:${rule.fromHeaders[0].name}` : undefined;
      out.push({
        issuer: rule.issuer,
        subject: named ? named.slice(rule.issuer.length + 1) : 'caller',
        audiences: Array.isArray(rule.audiences) && rule.audiences.length ? [String(rule.audiences[0])] : undefined,
        claims,
        location: header,
      });
    }
  }
  return out;
}

/** A request a VirtualService HTTPMatchRequest takes, or undefined when none can be written down (a regex path). */
export function requestForMatch(match: any): { method?: string; path: string; headers: Record<string, string> } | undefined {
  const m = match && typeof match === 'object' ? match : {};
  let path = '/';
  if (m.uri) {
    if (typeof m.uri.exact === 'string') path = m.uri.exact;
    else if (typeof m.uri.prefix === 'string') path = m.uri.prefix.startsWith('/') ? m.uri.prefix : `/${m.uri.prefix}`;
    else if (typeof m.uri.regex === 'string') return undefined;
  }
  const headers: Record<string, string> = {};
  for (const [name, sm] of Object.entries(m.headers && typeof m.headers === 'object' ? m.headers : {})) {
    const v: any = sm;
    if (typeof v?.regex === 'string' || name.startsWith('@') || name.startsWith(':')) return undefined;
    headers[name] = typeof v?.exact === 'string' ? v.exact : typeof v?.prefix === 'string' ? v.prefix : 'x';
  }
  const query = Object.entries(m.queryParams && typeof m.queryParams === 'object' ? m.queryParams : {}).map(([name, sm]) => {
    const v: any = sm;
    return `${encodeURIComponent(name)}=${encodeURIComponent(typeof v?.exact === 'string' ? v.exact : typeof v?.prefix === 'string' ? v.prefix : 'x')}`;
  });
  if (Object.values(m.queryParams ?? {}).some((v: any) => typeof v?.regex === 'string')) return undefined;
  if (m.method && typeof m.method.exact !== 'string') return undefined;
  return { method: m.method?.exact, path: query.length ? `${path}?${query.join('&')}` : path, headers };
}

/** A host a (possibly wildcard) host pattern serves: `*` → `any.example.com`, `*.shop.io` → `www.shop.io`. */
export function exampleHost(pattern: string): string {
  if (pattern === '*') return 'any.example.com';
  return pattern.startsWith('*.') ? `www${pattern.slice(1)}` : pattern;
}
