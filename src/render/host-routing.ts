import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import {
  DestinationRule, DestinationRuleSpec, VirtualService, VirtualServiceSpec,
  VirtualServiceSpecHttp, VirtualServiceSpecTcp, VirtualServiceSpecTls,
} from '../imports/networking.istio.io';
import type { MeshService } from '../mesh/mesh-service';
import { isHttpProtocol, isTlsProtocol } from '../mesh/protocol';

/**
 * Istio's own retry policy, written out: every generated HTTP route states its retries so
 * what is deployed is what is reviewed. `503` stands for Istio's default retriable status code
 * (Istio adds `retriable-status-codes` for it).
 */
export const ISTIO_DEFAULT_RETRIES = { attempts: 2, retryOn: 'connect-failure,refused-stream,unavailable,cancelled,503' };

/**
 * Everything the library knows about traffic to one service host, rendered at synth time into
 * the host's ONE VirtualService and ONE DestinationRule.
 */
export class HostRouting {
  public constructor(private readonly service: MeshService) {}

  /** Creates the host's VirtualService and DestinationRule, rendered lazily at synth. */
  public createObjects(scope: Construct): { virtualService: ApiObject; destinationRule: ApiObject } {
    const metadata = { name: this.service.name, namespace: this.service.mesh.namespaceName };
    const destinationRule = new DestinationRule(scope, 'DestinationRule', {
      metadata,
      spec: Lazy.any({ produce: () => this.renderDestinationRule() }) as DestinationRuleSpec,
    });
    const virtualService = new VirtualService(scope, 'VirtualService', {
      metadata,
      spec: Lazy.any({ produce: () => this.renderVirtualService() }) as VirtualServiceSpec,
    });
    return { virtualService, destinationRule };
  }

  private renderDestinationRule(): DestinationRuleSpec {
    return {
      host: this.service.host,
      subsets: this.service.versions.map((v) => ({ name: v.name, labels: { version: v.name } })),
    };
  }

  private renderVirtualService(): VirtualServiceSpec {
    const service = this.service;
    const destination = { host: service.host, subset: service.defaultVersion.name };
    if (isHttpProtocol(service.protocol)) {
      const http: VirtualServiceSpecHttp[] = [{ route: [{ destination }], retries: ISTIO_DEFAULT_RETRIES }];
      return { hosts: [service.host], http };
    }
    if (isTlsProtocol(service.protocol)) {
      const tls: VirtualServiceSpecTls[] = [{ match: [{ sniHosts: [service.host], port: service.port }], route: [{ destination }] }];
      return { hosts: [service.host], tls };
    }
    const tcp: VirtualServiceSpecTcp[] = [{ route: [{ destination }] }];
    return { hosts: [service.host], tcp };
  }
}
