import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { IngressGateway, Mesh, MeshService, PathMatch, RoutingApi } from '../../src';

test('scratch', () => {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', routingApi: RoutingApi.GATEWAY_API, checkDeclarations: false });
  const api = new MeshService(chart, 'api', { mesh, image: 'example/api:1', port: 8080 });
  const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1', port: 8080 });
  const gateway = new IngressGateway(chart, 'gateway', { mesh, hosts: ['shop.example.com'] });
  web.exposeViaGateway(gateway);
  api.exposeViaGateway(gateway, { paths: [PathMatch.pathPrefix('/api')] });
  console.log(YAML.stringify(Testing.synth(chart).filter((o: any) => /Route/.test(o.kind))));
});
