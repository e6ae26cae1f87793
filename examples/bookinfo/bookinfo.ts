// Istio's bookinfo sample application as a cdk8s-mesh chart.
// (Inside this repository the library is imported from its sources; in your own app write
// `from 'cdk8s-mesh'`.)
import { Chart, ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Mesh, MeshService, MeshServiceOptions } from '../../src';

/** Properties of the bookinfo chart. */
export interface BookinfoProps extends ChartProps {
  /** @default 'bookinfo' */
  readonly namespaceName?: string;
}

/**
 * productpage → details, productpage → reviews (v1, v2, v3) → ratings, all on port 9080,
 * each with its own service account `bookinfo-<service>` as in Istio's sample.
 */
export class BookinfoChart extends Chart {
  public readonly mesh: Mesh;
  public readonly productpage: MeshService;
  public readonly details: MeshService;
  public readonly reviews: MeshService;
  public readonly ratings: MeshService;

  public constructor(scope: Construct, id: string, props: BookinfoProps = {}) {
    const namespaceName = props.namespaceName ?? 'bookinfo';
    super(scope, id, { ...props, namespace: namespaceName });

    this.mesh = new Mesh(this, 'mesh', { namespaceName });
    const service = (name: string, options: Partial<MeshServiceOptions> = {}) =>
      new MeshService(this, name, {
        mesh: this.mesh,
        name,
        image: image(name, 'v1'),
        port: 9080,
        replicas: 1,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        serviceAccountName: `bookinfo-${name}`,
        ...options,
      });

    this.details = service('details');
    this.ratings = service('ratings');
    this.reviews = service('reviews', {
      env: { LOG_DIR: '/tmp/logs' },
      scratchDirectories: ['/tmp', '/opt/ibm/wlp/output'],
    });
    this.reviews.addVersion('v2', { image: image('reviews', 'v2') });
    this.reviews.addVersion('v3', { image: image('reviews', 'v3') });
    this.productpage = service('productpage', { scratchDirectories: ['/tmp'] });
  }
}

function image(service: string, version: string): string {
  return `registry.istio.io/release/examples-bookinfo-${service}-${version}:1.20.3`;
}
