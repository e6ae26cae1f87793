# The sidecar image of the cdk8s Config Management Plugin (Cdk8sPlugin's `image`):
#   docker build -f plugin.Dockerfile -t registry.example.com/cdk8s-cmp:2 .
# Node.js and npm run the app, the cdk8s CLI synthesizes it. Argo CD's argocd-cmp-server is not
# in the image: the repo server shares it through its var-files volume. Argo CD runs the sidecar
# as user 999.
FROM node:20-bookworm-slim
RUN npm install --global --no-audit --no-fund cdk8s-cli@2 && npm cache clean --force
USER 999
WORKDIR /tmp
