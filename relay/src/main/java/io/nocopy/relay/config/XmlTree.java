package io.nocopy.relay.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.Attributes;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * An XML document as a small tree of elements that remember their line, read with the JDK's SAX
 * parser (DTDs and external entities refused). Enough for configuration files; mixed content is
 * reduced to an element's trimmed text.
 */
final class XmlTree {
  /** One element: its name, attributes, trimmed text, children and the line it starts on. */
  static final class Element {
    final String name;
    final Map<String, String> attributes;
    final int line;
    final List<Element> children = new ArrayList<>();
    final StringBuilder text = new StringBuilder();

    Element(String name, Map<String, String> attributes, int line) {
      this.name = name;
      this.attributes = attributes;
      this.line = line;
    }

    String text() {
      return text.toString().strip();
    }
  }

  private XmlTree() {}

  /**
   * Parses {@code file}.
   *
   * @throws ConfigException with the file, line and reason if it is not well-formed XML
   * @throws IOException if it cannot be read
   */
  static Element parse(Path file) throws IOException {
    SAXParser parser;
    try {
      SAXParserFactory f = SAXParserFactory.newInstance();
      f.setNamespaceAware(false);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      parser = f.newSAXParser();
    } catch (ParserConfigurationException | SAXException e) {
      throw new IllegalStateException("the JDK's XML parser cannot be configured", e);
    }
    Builder b = new Builder();
    try (InputStream in = Files.newInputStream(file)) {
      parser.parse(in, b);
    } catch (SAXParseException e) {
      throw new ConfigException(file, e.getLineNumber(), e.getMessage());
    } catch (SAXException e) {
      throw new ConfigException(file, 0, e.getMessage());
    }
    if (b.root == null) {
      throw new ConfigException(file, 0, "no root element");
    }
    return b.root;
  }

  private static final class Builder extends DefaultHandler {
    private final Deque<Element> open = new ArrayDeque<>();
    private Locator locator;
    Element root;

    @Override
    public void setDocumentLocator(Locator locator) {
      this.locator = locator;
    }

    @Override
    public void startElement(String uri, String local, String qName, Attributes attrs) {
      Map<String, String> a = new LinkedHashMap<>();
      for (int i = 0; i < attrs.getLength(); i++) {
        a.put(attrs.getQName(i), attrs.getValue(i));
      }
      Element e = new Element(qName, a, locator == null ? 0 : locator.getLineNumber());
      if (open.isEmpty()) {
        root = e;
      } else {
        open.peek().children.add(e);
      }
      open.push(e);
    }

    @Override
    public void endElement(String uri, String local, String qName) {
      open.pop();
    }

    @Override
    public void characters(char[] ch, int start, int length) {
      if (!open.isEmpty()) {
        open.peek().text.append(ch, start, length);
      }
    }
  }
}
