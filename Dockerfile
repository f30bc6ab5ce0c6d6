# pyinit as PID 1 of a container.
#
# The wheel comes from the build context, so the build needs no network:
#   python3 -m pip wheel --no-deps -w dist .     (or: python3 -m build --wheel)
#   docker build -t pyinit-demo .                (podman build works the same)
#   docker run --rm pyinit-demo                  (the zombie example; exits 0)
#   docker run --rm pyinit-demo your-command args...
# Keep one pyinit wheel in dist/: pip refuses two versions of one package.
#
# BASE: any image with python3 and pip (python:*-alpine, python:*-slim, or a
# distribution's python3 + pip). The container tests build this very file with
# --build-arg BASE=<a local debootstrap image>.
ARG BASE=python:3.12-alpine
FROM ${BASE}

COPY dist/ /tmp/pyinit-wheels/
# --no-index: only the wheel in the context, never an index. PIP_BREAK_SYSTEM_PACKAGES
# matters only on a distribution's python3 (Debian marks it EXTERNALLY-MANAGED,
# PEP 668); the python images are not marked, so there it changes nothing.
RUN PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
        python3 -m pip install --no-index --no-deps --no-cache-dir /tmp/pyinit-wheels/*.whl \
 && rm -rf /tmp/pyinit-wheels \
 && pyinit -- true

COPY examples/ /usr/local/share/pyinit/examples/

# The exec form, with "--": everything after it is the command, even if it
# starts with a dash, and pyinit (not /bin/sh -c) is PID 1.
ENTRYPOINT ["pyinit", "--"]
CMD ["python3", "/usr/local/share/pyinit/examples/zombie_factory.py"]
