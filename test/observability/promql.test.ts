import { expectValidPromQL, interpolateGrafana, promqlErrors } from './promql';

describe('PromQL check used by the observability tests', () => {
  test('accepts valid PromQL and reports syntax errors', () => {
    expectValidPromQL(['sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[5m]))']);
    expect(promqlErrors('sum(rate(istio_requests_total[5m])')).not.toEqual([]);
    expect(promqlErrors('a > and b')).not.toEqual([]);
    expect(promqlErrors('rate(x[$__rate_interval])')).not.toEqual([]);
  });

  test("interpolates Grafana's interval macros the way Grafana does before querying", () => {
    expect(interpolateGrafana('rate(x[$__rate_interval]) + rate(y[$__interval])')).toBe('rate(x[5m]) + rate(y[5m])');
  });
});
