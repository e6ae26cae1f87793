// The validator and its CEL environment, on the package's own data (no ../shared needed).
import * as fs from 'fs';
import * as path from 'path';
import { compileCel } from '../../src/validation/cel';
import { re2Error } from '../../src/validation/regex';
import { escapeCelName, toCel, validateObject } from '../../src/validation/validator';

const DATA = path.join(__dirname, '..', '..', 'src', 'schemas');
const rulesOf = (node: any): any[] => node['x-kubernetes-validations'] ?? [];
const allRules = fs.readdirSync(DATA).flatMap((f) => JSON.parse(fs.readFileSync(path.join(DATA, f), 'utf8')).nodes.flatMap(rulesOf));
const errors = (o: any) => validateObject(o).violations.filter((v) => v.severity === 'error').map((v) => v.message);

describe('CEL rules of the CRDs', () => {
  test('every rule (and message expression) compiles with the evaluator: none is skipped', () => {
    const texts = [...new Set(allRules.flatMap((r) => [r.rule, r.messageExpression].filter(Boolean)))];
    expect(texts.length).toBeGreaterThan(100);
    expect(texts.filter((t) => typeof compileCel(t) === 'string')).toEqual([]);
  });

  test('a rule that cannot be compiled is an error, never a pass', () => {
    expect(compileCel('self.unknownFunction(')).toEqual(expect.any(String));
    const evaluated = compileCel('self.noSuchMethod()');
    expect(typeof evaluated === 'string' ? evaluated : evaluated('x').error).toEqual(expect.any(String));
  });

  test('a rule that fails at run time refuses the object, with cel-go\'s words (PeerAuthentication port "abc")', () => {
    expect(errors({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'p' },
      spec: { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { abc: { mode: 'DISABLE' } } },
    })).toEqual([expect.stringMatching(/^spec\.portLevelMtls: Invalid value: "object": type conversion error from 'string' to 'int' evaluating rule: self\.all\(key, 0 < int\(key\) && int\(key\) <= 65535\) \(port must be between 1-65535\)$/)]);
  });

  test('the Kubernetes libraries the CRDs call: url, isURL, isIP, cidr, quantity, lists, regex', () => {
    const run = (e: string, self: unknown = null) => {
      const c = compileCel(e);
      if (typeof c === 'string') throw new Error(c);
      return c(self).value;
    };
    expect(run('url(self).getScheme()', 'oci://ghcr.io/x')).toBe('oci');
    expect(run('isURL(self)', 'ghcr.io/x')).toBe(false); // Go's ParseRequestURI: no scheme, not a path
    expect(run('isURL(self)', '/only/a/path')).toBe(true);
    expect(run('url(self).getHostname() + ":" + url(self).getPort()', 'https://[::1]:8443/a')).toBe('::1:8443');
    expect(run('isIP(self)', '1.2.3.04')).toBe(false); // leading zeros (netip)
    expect(run('isIP(self)', '::ffff:1.2.3.4')).toBe(false); // IPv4-mapped IPv6 is refused
    expect(run('isIP(self)', '2001:db8::1')).toBe(true);
    expect(run('cidr("10.0.0.0/8").containsIP(self)', '10.255.0.1')).toBe(true);
    expect(run('quantity("1Gi").isGreaterThan(quantity("1000Mi"))')).toBe(true);
    expect(run('[1, 2, 2].isSorted() && [3, 1].max() == 3')).toBe(true);
    expect(run('self.find("[0-9]+")', 'abc123def')).toBe('123');
    expect(run('self.matches(r"""^(?i)(abort|warn)$""")', 'WARN')).toBe(true);
  });

  test('property names are escaped as the API server escapes them', () => {
    expect(['namespace', 'x-y', 'a.b', 'a/b', 'a__b', 'ok', '1bad', 'sp ace'].map(escapeCelName))
      .toEqual(['__namespace__', 'x__dash__y', 'a__dot__b', 'a__slash__b', 'a__underscores__b', 'ok', undefined, undefined]);
  });

  test('self is typed by the schema: integers are int, numbers are double, declared names escaped', () => {
    const schema: any = { type: 'object', properties: { 'count': { type: 'integer' }, 'ratio': { type: 'number' }, 'my-name': { type: 'string' } } };
    expect(toCel({ 'count': 2, 'ratio': 2, 'my-name': 'x' }, schema)).toEqual({ count: 2n, ratio: 2, my__dash__name: 'x' });
  });
});

describe('API server semantics', () => {
  test('a JavaScript field that is undefined is absent, as in the JSON the API server receives (found by the namespace-renaming property)', () => {
    const policy = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'p', namespace: 'foo' },
      spec: { rules: [{ from: [{ source: { principals: ['cluster.local/ns/foo/sa/a'], requestPrincipals: undefined } }] }] },
    };
    const result = validateObject(policy);
    expect(result.violations).toEqual([]);
    expect(Object.keys(result.admitted.spec.rules[0].from[0].source)).toEqual(['principals']);
  });

  test('defaults are applied before the rules: a Gateway API backendRef defaults to kind Service, which needs a port', () => {
    const route = (backendRef: any) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r' },
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [backendRef] }] },
    });
    expect(errors(route({ name: 'reviews' }))).toEqual([expect.stringContaining('Must have port for Service reference')]);
    expect(errors(route({ name: 'reviews', port: 9080 }))).toEqual([]);
  });

  test('null: a type error for custom resources, unset for built-in kinds (Go decodes null as the zero value)', () => {
    expect(errors({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'v' }, spec: { hosts: ['a'], http: null } }))
      .toEqual(['spec.http in body must be of type array: "null"']);
    expect(errors({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', creationTimestamp: null }, data: null })).toEqual([]);
  });

  test("the pod spec's service account name (the workload's identity) must be a DNS subdomain, as the API server checks", () => {
    const deployment = (sa: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { serviceAccountName: sa, containers: [{ name: 'c', image: 'i' }] } } },
    });
    expect(errors(deployment('*'))).toEqual([expect.stringMatching(/^spec\.template\.spec\.serviceAccountName: Invalid value: "\*": a lowercase RFC 1123 subdomain/)]);
    expect(errors(deployment('reviews'))).toEqual([]);
    expect(errors(deployment(''))).toEqual([]); // empty: the namespace's default service account
  });

  test('a version that is not served, and a kind the group does not have', () => {
    expect(errors({ apiVersion: 'networking.istio.io/v1alpha1', kind: 'VirtualService', metadata: { name: 'v' } }))
      .toEqual(['no matches for kind "VirtualService" in version "networking.istio.io/v1alpha1"']);
    const typo = validateObject({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualServce', metadata: { name: 'v' } });
    expect(typo.violations[0]).toMatchObject({ fix: 'Did you mean kind "VirtualService"?' });
  });

  test('RE2, not JavaScript: lookaround is refused, Go-only syntax is accepted', () => {
    expect(re2Error('(?=a)b')).toMatch(/invalid or unsupported Perl syntax/);
    expect(re2Error('^(?i)\\pL+$')).toBeUndefined();
  });
});

describe('CEL isIP on host names (the Gateway API TLSRoute and HTTPRoute rule `self.all(h, !isIP(h))`)', () => {
  test('a dotted host name is not an IP (it was read as an IPv6 address with an IPv4 tail, recursing without end)', () => {
    const tlsRoute = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'TLSRoute',
      metadata: { name: 'secure', namespace: 'shop' },
      spec: { parentRefs: [{ name: 'edge' }], hostnames: ['secure.example.com'], rules: [{ backendRefs: [{ name: 'secure', port: 8443 }] }] },
    };
    expect(validateObject(tlsRoute)).toMatchObject({ known: true, refused: false, violations: [] });
    const withIp = { ...tlsRoute, spec: { ...tlsRoute.spec, hostnames: ['10.0.0.1'] } };
    expect(validateObject(withIp).violations.map((v) => v.message)).toEqual(expect.arrayContaining([expect.stringMatching(/Hostnames cannot contain an IP/)]));
  });
});
