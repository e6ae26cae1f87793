// Internal: the ports of a version's probes. Not exported from the package.
import * as kplus from 'cdk8s-plus-27';

/**
 * What cdk8s-plus calls to write a probe (`Probe._toKube`, internal to cdk8s-plus): it fills a
 * missing port of an HTTP or TCP probe from `container.portNumber`, or 80 when that is unset.
 */
interface RenderableProbe {
  _toKube(container: { readonly portNumber?: number }): { httpGet?: { port: { value: unknown } }; tcpSocket?: { port: { value: unknown } } };
}

/**
 * `probe`, probing `port` when it names no port of its own.
 *
 * A version declares its container port in the container's `ports` list, not as
 * `portNumber` (which would also give every container a TCP startup probe), so cdk8s-plus would
 * send a probe without a port to port 80. The returned probe is the same probe with `port`
 * standing in for the container's `portNumber`; everything else is cdk8s-plus's own rendering.
 */
export function probeDefaultingTo(probe: kplus.Probe, port: number): kplus.Probe {
  const renderable = probe as unknown as RenderableProbe;
  const wrapped = Object.create(probe) as RenderableProbe;
  wrapped._toKube = (container) => renderable._toKube(Object.create(container, { portNumber: { value: port } }));
  return wrapped as unknown as kplus.Probe;
}

/**
 * The port `probe` names itself, or undefined when it names none (a command probe, or an HTTP
 * or TCP probe left to the container's port). Found by rendering it for two containers whose
 * ports differ: a port of its own is the same in both.
 */
export function explicitProbePort(probe: kplus.Probe): number | undefined {
  const render = (portNumber: number) => {
    const kube = (probe as unknown as RenderableProbe)._toKube({ portNumber });
    return (kube.httpGet ?? kube.tcpSocket)?.port.value;
  };
  const first = render(-1);
  return first !== undefined && first === render(-2) && typeof first === 'number' ? first : undefined;
}
