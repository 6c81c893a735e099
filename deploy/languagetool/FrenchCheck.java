// Checks French texts with LanguageTool's Java API and prints what it finds, as JSON.
//
// Run by palmares_stack.languagetool with Java's source launcher (no build step):
//     java -cp '<libs>/*' FrenchCheck.java < texts.json > findings.json
// Input: [{"id": "...", "segments": [{"text": "..."} or {"markup": "..."}, ...]}, ...]: markup (an
// identifier, a URL) takes its place in the text but is not checked. Output: {"version": "...",
// "findings": [{"id", "rule", "category", "message", "offset", "length", "found", "sentence",
// "replacements"}, ...]}, offsets in the text with its markup.
//
// Besides LanguageTool's default French rules, the typographic rules it leaves off by default
// are switched on (typographic apostrophe, non-breaking spaces inside « » and before : ; ! ?):
// the label's letters and pages follow French typography.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.languagetool.JLanguageTool;
import org.languagetool.JLanguageTool.Level;
import org.languagetool.JLanguageTool.Mode;
import org.languagetool.JLanguageTool.ParagraphHandling;
import org.languagetool.Languages;
import org.languagetool.markup.AnnotatedTextBuilder;
import org.languagetool.rules.Rule;
import org.languagetool.rules.RuleMatch;

public class FrenchCheck {
  static final List<String> ALSO_ENABLED = List.of("FRENCH_WHITESPACE_STRICT", "APOS_TYP");

  public static void main(String[] args) throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    JsonNode input = mapper.readTree(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    JLanguageTool tool = new JLanguageTool(Languages.getLanguageForShortCode("fr"));
    for (Rule rule : tool.getAllRules()) {
      if (ALSO_ENABLED.contains(rule.getId()) || rule.getCategory().getId().toString().equals("CAT_TYPOGRAPHIE")) {
        tool.enableRule(rule.getId());
      }
    }
    // The picky level: the typographic rules only run there.
    Level level = Level.PICKY;
    ObjectNode out = mapper.createObjectNode();
    out.put("version", JLanguageTool.VERSION);
    ArrayNode findings = out.putArray("findings");
    for (JsonNode item : input) {
      AnnotatedTextBuilder builder = new AnnotatedTextBuilder();
      StringBuilder whole = new StringBuilder();
      for (JsonNode segment : item.get("segments")) {
        if (segment.has("markup")) {
          builder.addMarkup(segment.get("markup").asText());
          whole.append(segment.get("markup").asText());
        } else {
          builder.addText(segment.get("text").asText());
          whole.append(segment.get("text").asText());
        }
      }
      String text = whole.toString();
      List<RuleMatch> matches = tool.check(builder.build(), true, ParagraphHandling.NORMAL, null, Mode.ALL, level);
      for (RuleMatch match : matches) {
        ObjectNode finding = findings.addObject();
        finding.put("id", item.get("id").asText());
        finding.put("rule", match.getRule().getId());
        finding.put("category", match.getRule().getCategory().getId().toString());
        finding.put("message", match.getMessage());
        finding.put("offset", match.getFromPos());
        finding.put("length", match.getToPos() - match.getFromPos());
        finding.put("found", text.substring(match.getFromPos(), Math.min(match.getToPos(), text.length())));
        finding.put("sentence", match.getSentence() == null ? "" : match.getSentence().getText().strip());
        ArrayNode replacements = finding.putArray("replacements");
        match.getSuggestedReplacements().stream().limit(3).forEach(replacements::add);
      }
    }
    mapper.writerWithDefaultPrettyPrinter()
        .writeValue(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), out);
  }
}
