# The folder the kit's built packages are installed from: the wheels of twinapi-codegen, twinapi-runtime and
# twinapi-conformance and the npm tarball of fastify-twinapi, as `make dist` in a checkout of the kit writes them.
# `make setup` installs the pinned versions from here; `make upgrade-kit` pins the newest build found here. Point it
# at another folder holding them (a shared artefact store, say), here or on the command line: make KIT_DIST=...
KIT_DIST ?= ../../dist
