// Search-as-you-type in the service picker of the dossier form. The form works without it:
// every service is a checkbox; this only hides those whose label does not match what is typed.
(function () {
  "use strict";
  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  document.querySelectorAll(".choix-services").forEach(function (list) {
    var id = list.getAttribute("data-recherche") + "-recherche";
    var wrapper = document.createElement("div");
    wrapper.className = "champ";
    var label = document.createElement("label");
    label.setAttribute("for", id);
    label.textContent = "Rechercher un service";
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    var count = document.createElement("p");
    count.className = "aide";
    count.setAttribute("role", "status");
    wrapper.appendChild(label);
    wrapper.appendChild(input);
    wrapper.appendChild(count);
    list.parentNode.insertBefore(wrapper, list);
    input.addEventListener("input", function () {
      var wanted = plain(input.value.trim());
      var shown = 0;
      list.querySelectorAll(".case").forEach(function (item) {
        var match = !wanted || plain(item.textContent).indexOf(wanted) !== -1;
        item.hidden = !match;
        if (match) { shown += 1; }
      });
      list.querySelectorAll("fieldset").forEach(function (group) {
        group.hidden = !group.querySelector(".case:not([hidden])");
      });
      count.textContent = wanted ? shown + (shown > 1 ? " services trouvés" : " service trouvé") : "";
    });
  });
})();
