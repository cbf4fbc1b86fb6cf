// Progressive enhancement only: a live SMS character/part counter on the reply box.
// Every flow works without this file (the "characters?" button asks the server instead).
(function () {
  "use strict";
  var basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var ext = "^{}\\[~]|€\f";
  function count(text) {
    var septets = 0, gsm = true, chars = Array.from(text);
    for (var i = 0; i < chars.length; i++) {
      var c = chars[i];
      if (basic.indexOf(c) >= 0) { septets += 1; }
      else if (ext.indexOf(c) >= 0) { septets += 2; }
      else { gsm = false; break; }
    }
    var units = gsm ? septets : text.length;  // UCS-2 counts UTF-16 code units
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    var parts = units === 0 ? 0 : (units <= single ? 1 : Math.ceil(units / multi));
    return { chars: chars.length, encoding: gsm ? "GSM-7" : "UCS-2", parts: parts };
  }
  var boxes = document.querySelectorAll("textarea[data-counter]");
  boxes.forEach(function (box) {
    var out = document.getElementById(box.getAttribute("data-counter"));
    if (!out) { return; }
    var words = out.textContent.replace(/^[0-9]+ /, "").split(" · ");
    function update() {
      var r = count(box.value);
      out.textContent = r.chars + " " + words[0] + " · " + r.encoding + " · " + r.parts + " " +
        (words[2] || "").replace(/^[0-9]+ /, "");
    }
    box.addEventListener("input", update);
    update();
  });
})();
