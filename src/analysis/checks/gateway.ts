import { Res } from '../manifests';
import { fullName, MeshIndex, push } from '../model';
import { Check, list } from './check';
import { compareText } from '../../internal/order';

/** `k1=v1,k2=v2`, keys sorted: the selector string Istio compares. */
function selectorString(selector: Record<string, string> | undefined): string {
  return Object.entries(selector ?? {}).sort(([a], [b]) => compareText(a, b)).map(([k, v]) => `${k}=${v}`).join(',');
}

/**
 * IST0145: two Gateways on the same workload (same selector, or selectors one of which contains the other and a
 * pod template both select) and the same port, with a host in common (and the same bind address).
 */
export const conflictingGateways: Check = {
  analyzer: 'gateway.ConflictingGatewayAnalyzer',
  run(ctx) {
    // `selector~port~bind~host` → the Gateways serving it, so each server finds its rivals by lookup.
    const serving = new Map<string, Set<Res>>();
    const keyOf = (sel: string, port: number, bind: string, host: string) => `${sel}~${port}~${bind}~${host}`;
    for (const gw of ctx.index.of('Gateway')) {
      const sel = selectorString(gw.spec.selector);
      for (const server of gw.spec.servers ?? []) {
        for (const h of server?.hosts ?? []) {
          const key = keyOf(sel, server?.port?.number ?? 0, server.bind ?? '', h);
          serving.set(key, (serving.get(key) ?? new Set()).add(gw));
        }
      }
    }
    const selectors = [...new Set(ctx.index.of('Gateway').map((g) => selectorString(g.spec.selector)))];
    const overlapping = overlappingSelectors(ctx.index, selectors);
    for (const gw of ctx.index.of('Gateway')) {
      const sel = selectorString(gw.spec.selector);
      (gw.spec.servers ?? []).forEach((server: any, i: number) => {
        const port = server?.port?.number ?? 0;
        const conflicts = new Set<string>();
        for (const other of overlapping.get(sel)!) {
          for (const h of server?.hosts ?? []) {
            for (const rival of serving.get(keyOf(other, port, server.bind ?? '', h)) ?? []) if (rival !== gw) conflicts.add(fullName(rival));
          }
        }
        if (conflicts.size === 0) return;
        const names = [...conflicts].sort();
        ctx.report('IST0145', gw, `spec.servers[${i}]`,
          `Conflicts with Gateway${names.length > 1 ? 's' : ''} ${list(names)}: same workload (selector ${sel || '<all>'}), port ${port} and host(s) ${list(server.hosts)}. Only one of them takes effect.`,
          'Merge the servers into one Gateway, or use different hosts, ports or gateway workloads.');
      });
    }
  },
};

/** For each selector string: itself plus every other selector that contains it (or is contained) and shares a pod. */
function overlappingSelectors(index: MeshIndex, selectors: string[]): Map<string, string[]> {
  const parse = (s: string) => Object.fromEntries(s ? s.split(',').map((kv) => kv.split('=', 2) as [string, string]) : []);
  const out = new Map<string, string[]>();
  for (const a of selectors) {
    const group = [a];
    for (const b of selectors) {
      if (a === b || !(a.includes(b) || b.includes(a))) continue;
      // Istio compares selector strings by containment ("app=gw-1" is in "app=gw-10"): a pod must match both.
      const [pa, pb] = [parse(a), parse(b)];
      if (Object.entries(pb).some(([k, v]) => k in pa && pa[k] !== v)) continue;
      if (index.workloadsMatching({ ...pa, ...pb }).length > 0) group.push(b);
    }
    out.set(a, group);
  }
  return out;
}

/** `credentialName`, or server certificate + private key files: what identifies a Gateway server's certificate. */
function certificateKey(tls: any): string | undefined {
  if (tls?.credentialName) return `secret:${tls.credentialName}`;
  if (tls?.serverCertificate && tls.privateKey) return `files:${tls.serverCertificate}|${tls.privateKey}`;
  return undefined;
}

const isSubset = (a: Record<string, string>, b: Record<string, string>) => Object.entries(a).every(([k, v]) => b[k] === v);

/**
 * IST0138: the same certificate on Gateways that can run on the same workload (this Gateway's selector is a subset
 * of the other's). Browsers reuse an HTTP/2 connection for every host of the certificate, and get 404s.
 */
export const duplicateCertificates: Check = {
  analyzer: 'gateway.CertificateAnalyzer',
  run(ctx) {
    const byCertificate = new Map<string, Res[]>();
    for (const gw of ctx.index.of('Gateway')) {
      for (const server of gw.spec.servers ?? []) {
        const key = certificateKey(server?.tls);
        if (key) push(byCertificate, key, gw);
      }
    }
    for (const gw of ctx.index.of('Gateway')) {
      const selector = gw.spec.selector ?? {};
      (gw.spec.servers ?? []).forEach((server: any, i: number) => {
        const key = certificateKey(server?.tls);
        if (!key) return;
        for (const other of byCertificate.get(key) ?? []) {
          if (other === gw || !isSubset(selector, other.spec.selector ?? {})) continue;
          ctx.report('IST0138', gw, `spec.servers[${i}].tls`,
            `Gateway ${fullName(other)} serves the same certificate (${key.replace(/^\w+:/, '')}) on the same gateway workload; clients that reuse HTTP/2 connections across its hosts get 404s.`,
            'Use one certificate per Gateway (or merge the servers into one Gateway).');
        }
      });
    }
  },
};
