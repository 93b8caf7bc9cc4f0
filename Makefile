# 保学 Baoxue — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test e2e-browser scheduler clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# A .env with a fresh secret key, so that every `baoxue` command works in this checkout. It is
# production-like (DEBUG off) except for cookies: this machine is served over plain http, where a
# browser would drop Secure cookies and sign-in could not work. A server uses
# deploy/baoxue.env.example instead (HTTPS, Secure cookies, HSTS).
.env:
	@echo "# 本机试用（make run，http://$(HOST):$(PORT)）。正式部署用 deploy/baoxue.env.example。" > .env
	@echo "DEBUG=0" >> .env
	@echo "SECURE_COOKIES=0" >> .env
	@echo "SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env
	@echo "写入 .env（DEBUG=0；本机 http 访问，Cookie 不设 Secure）"

# `make run`: what production runs (`baoxue serve`: gunicorn, DEBUG off, WhiteNoise) on plain
# http for this machine. `make run DEBUG=1` (or DEBUG=1 in the environment): Django's development
# server instead (reloads on code changes, shows error pages).
RUN_DEBUG := $(if $(filter 1 true yes on,$(DEBUG)),1,0)
RUN_ENV := DEBUG=$(RUN_DEBUG) SECURE_COOKIES=0 SECURE_SSL_REDIRECT=0

run: install .env
	@echo "准备数据库 …"
	@$(RUN_ENV) $(BIN)/baoxue migrate --noinput -v0
	@$(RUN_ENV) $(BIN)/baoxue collectstatic --noinput -v0
	@$(RUN_ENV) $(BIN)/baoxue demo --if-empty --no-logins
	@# One block with what a newcomer needs: where to open it and how to sign in.
	@echo ""
	@echo "================================================================"
	@echo " 保学已启动：用浏览器打开 http://$(HOST):$(PORT)/   （按 Ctrl+C 停止）"
	@echo "================================================================"
	@$(RUN_ENV) $(BIN)/baoxue demo --logins
	@echo ""
	@# The daily 13510 job runs beside the web server and stops with it.
	@export $(RUN_ENV); $(BIN)/baoxue scheduler & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	if [ "$(RUN_DEBUG)" = 1 ]; then $(BIN)/baoxue runserver $(HOST):$(PORT); \
	else $(BIN)/baoxue serve --bind $(HOST):$(PORT) --no-collectstatic; fi

# Browser tests use Debian's chromium (no browser download); install it when missing.
e2e-browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "安装 chromium（端到端测试用）…"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium 安装失败：浏览器测试将跳过"; \
	  else echo "没有 chromium：浏览器测试将跳过"; fi; }

test: install-test e2e-browser
	SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var/ .env
