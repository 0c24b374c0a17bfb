// partlift point-cloud viewer: a dependency-free canvas 2D renderer (no WebGL, works offline and
// headless). Each <canvas class="pl-viewer" data-src="ID"> reads the JSON in <script id="ID">:
// {"points": [[x,y,z],...], "colors": [[r,g,b],...] (0-255), "legend": [[name,[r,g,b]],...]}.
// Drag to rotate, wheel to zoom, double-click to reset.
(function () {
  "use strict";
  function setup(canvas) {
    var data = JSON.parse(document.getElementById(canvas.dataset.src).textContent);
    var pts = data.points, cols = data.colors, n = pts.length;
    var ctx = canvas.getContext("2d");
    var yaw = 0.6, pitch = 0.35, zoom = 1.0;
    var cx = 0, cy = 0, cz = 0, r = 1e-9;
    for (var i = 0; i < n; i++) { cx += pts[i][0]; cy += pts[i][1]; cz += pts[i][2]; }
    cx /= n; cy /= n; cz /= n;
    for (i = 0; i < n; i++) {
      var dx = pts[i][0] - cx, dy = pts[i][1] - cy, dz = pts[i][2] - cz;
      r = Math.max(r, Math.sqrt(dx * dx + dy * dy + dz * dz));
    }
    var order = new Array(n), depth = new Float64Array(n), sx = new Float64Array(n), sy = new Float64Array(n);
    function draw() {
      var w = canvas.width, h = canvas.height, s = 0.45 * Math.min(w, h) * zoom / r;
      var cyw = Math.cos(yaw), syw = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
      for (var i = 0; i < n; i++) {
        var x = pts[i][0] - cx, y = pts[i][1] - cy, z = pts[i][2] - cz;
        var x1 = cyw * x + syw * z, z1 = -syw * x + cyw * z;   // yaw about +Y (up)
        var y2 = cp * y - sp * z1, z2 = sp * y + cp * z1;      // pitch about the screen x axis
        sx[i] = w / 2 + s * x1; sy[i] = h / 2 - s * y2; depth[i] = z2; order[i] = i;
      }
      order.sort(function (a, b) { return depth[a] - depth[b]; });  // far first (painter's order)
      ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, w, h);
      var size = Math.max(1.5, 2.2 * zoom);
      for (var k = 0; k < n; k++) {
        var j = order[k], c = cols[j];
        ctx.fillStyle = "rgb(" + c[0] + "," + c[1] + "," + c[2] + ")";
        ctx.fillRect(sx[j] - size / 2, sy[j] - size / 2, size, size);
      }
      canvas.dataset.drawn = String(n);
    }
    var drag = null;
    canvas.addEventListener("mousedown", function (e) { drag = [e.clientX, e.clientY]; });
    window.addEventListener("mouseup", function () { drag = null; });
    window.addEventListener("mousemove", function (e) {
      if (!drag) return;
      yaw += (e.clientX - drag[0]) * 0.01;
      pitch = Math.max(-1.55, Math.min(1.55, pitch + (e.clientY - drag[1]) * 0.01));
      drag = [e.clientX, e.clientY]; draw();
    });
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault(); zoom *= e.deltaY < 0 ? 1.1 : 1 / 1.1; draw();
    }, { passive: false });
    canvas.addEventListener("dblclick", function () { yaw = 0.6; pitch = 0.35; zoom = 1; draw(); });
    draw();
  }
  function init() {
    var list = document.querySelectorAll("canvas.pl-viewer");
    for (var i = 0; i < list.length; i++) setup(list[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
