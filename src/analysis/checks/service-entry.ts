import { Check } from './check';

/** Istio allocates ServiceEntry addresses itself only with DNS capture plus auto-allocation in the mesh config. */
function autoAllocatesAddresses(meshConfig: any): boolean {
  const md = meshConfig?.defaultConfig?.proxyMetadata ?? {};
  return md.ISTIO_META_DNS_CAPTURE === 'true'
    && (md.ISTIO_META_DNS_AUTO_ALLOCATE === 'true' || md.PILOT_ENABLE_IP_AUTOALLOCATE === 'true');
}

/**
 * IST0134: a ServiceEntry port with protocol TCP (or none) and no `addresses`: TCP traffic is matched by
 * destination IP, so without an address the entry cannot be told apart from other TCP services on that port.
 */
export const serviceEntryAddresses: Check = {
  analyzer: 'serviceentry.Analyzer',
  run(ctx) {
    if (autoAllocatesAddresses(ctx.index.options.meshConfig)) return;
    for (const se of ctx.index.of('ServiceEntry')) {
      if (se.spec.addresses !== undefined || (se.raw.status?.addresses ?? []).length > 0) continue;
      const i = (se.spec.ports ?? []).findIndex((p: any) => !p?.protocol || String(p.protocol).toUpperCase() === 'TCP');
      if (i < 0) continue;
      ctx.report('IST0134', se, `spec.ports[${i}]`,
        `Port ${se.spec.ports[i].number} serves ${se.spec.ports[i].protocol ? 'TCP' : 'an unset protocol (TCP)'} and the ServiceEntry has no addresses, so its traffic cannot be told apart by IP.`,
        'Set spec.addresses (a virtual IP or CIDR), use an application protocol such as HTTP or TLS, or enable DNS capture with address auto-allocation.');
    }
  },
};
