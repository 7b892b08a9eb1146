// Signs an e-invoice (HDon) with javax.xml.crypto.dsig (the JDK's XML Digital Signature API) and
// submits it to Hoadon. The signature follows the profile of docs/spec/invoice-format.md §4:
//   - one Signature in DSCKS/NBan, rsa-sha256 (ecdsa-sha256 for an EC key), C14N 1.0, the
//     signer's certificate in KeyInfo;
//   - Reference 1: "#<DLHDon/@Id>", transforms enveloped-signature + C14N, sha256;
//   - Reference 2: "#<Object/@Id>", the Signature's own Object holding the SigningTime (GMT+7,
//     no offset), transform C14N only (see docs/signing.md).
//
// JDK 17, no other library:
//   javac -d out SignAndSubmit.java
//   java -cp out SignAndSubmit invoice.xml seller.p12 PASSWORD http://127.0.0.1:8080 hdk_… [signed.xml]
// Exit status 0 when the service issued the invoice (201) or replayed it (200), 1 otherwise.
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import javax.xml.XMLConstants;
import javax.xml.crypto.dom.DOMStructure;
import javax.xml.crypto.dsig.*;
import javax.xml.crypto.dsig.dom.DOMSignContext;
import javax.xml.crypto.dsig.keyinfo.KeyInfo;
import javax.xml.crypto.dsig.keyinfo.KeyInfoFactory;
import javax.xml.crypto.dsig.spec.C14NMethodParameterSpec;
import javax.xml.crypto.dsig.spec.TransformParameterSpec;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

public class SignAndSubmit {
    static final String RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    static final String ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";

    static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling())
            if (n instanceof Element && name.equals(n.getLocalName())) return (Element) n;
        return null;
    }

    static Element childOrNew(Document doc, Element parent, String name) {
        Element e = child(parent, name);
        return e != null ? e : (Element) parent.appendChild(doc.createElementNS(null, name));
    }

    public static String sign(byte[] invoice, PrivateKey key, X509Certificate cert) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        dbf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = dbf.newDocumentBuilder().parse(new ByteArrayInputStream(invoice));
        Element hdon = doc.getDocumentElement();
        Element dlhdon = child(hdon, "DLHDon");
        String dataId = dlhdon.getAttribute("Id");
        dlhdon.setIdAttributeNS(null, "Id", true); // so that "#<Id>" resolves to DLHDon
        Element nban = childOrNew(doc, childOrNew(doc, hdon, "DSCKS"), "NBan");

        XMLSignatureFactory f = XMLSignatureFactory.getInstance("DOM");
        String sigId = "Signature-" + UUID.randomUUID().toString().replace("-", "");
        String objId = "SigningTime-" + UUID.randomUUID().toString().replace("-", "");
        DigestMethod sha256 = f.newDigestMethod(DigestMethod.SHA256, null);
        Transform c14n = f.newTransform(CanonicalizationMethod.INCLUSIVE, (TransformParameterSpec) null);
        Transform enveloped = f.newTransform(Transform.ENVELOPED, (TransformParameterSpec) null);

        Reference data = f.newReference("#" + dataId, sha256, List.of(enveloped, c14n), null, null);
        // C14N only on the SigningTime Object: no enveloped-signature transform there.
        Reference time = f.newReference("#" + objId, sha256, List.of(c14n), null, null);

        // Object/SignatureProperties/SignatureProperty/SigningTime, SigningTime in the XMLDSig namespace.
        String now = LocalDateTime.now(ZoneOffset.ofHours(7)).format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss"));
        Element signingTime = doc.createElementNS(XMLSignature.XMLNS, "SigningTime");
        signingTime.setTextContent(now);
        SignatureProperty prop = f.newSignatureProperty(List.of(new DOMStructure(signingTime)), "#" + sigId, null);
        SignatureProperties props = f.newSignatureProperties(List.of(prop), null);
        XMLObject object = f.newXMLObject(List.of(props), objId, null, null);

        String method = "EC".equals(key.getAlgorithm()) ? ECDSA_SHA256 : RSA_SHA256;
        SignedInfo si = f.newSignedInfo(
            f.newCanonicalizationMethod(CanonicalizationMethod.INCLUSIVE, (C14NMethodParameterSpec) null),
            f.newSignatureMethod(method, null), List.of(data, time));
        KeyInfoFactory kif = f.getKeyInfoFactory();
        KeyInfo ki = kif.newKeyInfo(List.of(kif.newX509Data(List.of(cert))));
        XMLSignature signature = f.newXMLSignature(si, ki, List.of(object), sigId, null);

        DOMSignContext ctx = new DOMSignContext(key, nban);
        ctx.setDefaultNamespacePrefix(""); // <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">, as the profile's examples
        signature.sign(ctx);

        StringWriter out = new StringWriter();
        var t = TransformerFactory.newInstance().newTransformer();
        t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
        t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
        t.transform(new DOMSource(doc), new StreamResult(out));
        return out.toString();
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: SignAndSubmit invoice.xml seller.p12 password baseUrl apiKey [signed.xml]");
            System.exit(2);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(args[1])) { ks.load(in, args[2].toCharArray()); }
        String alias = Collections.list(ks.aliases()).stream().filter(a -> {
            try { return ks.isKeyEntry(a); } catch (Exception e) { return false; }
        }).findFirst().orElseThrow();
        PrivateKey key = (PrivateKey) ks.getKey(alias, args[2].toCharArray());
        X509Certificate cert = (X509Certificate) ks.getCertificate(alias);

        String xml = sign(Files.readAllBytes(Path.of(args[0])), key, cert);
        if (args.length > 5) Files.writeString(Path.of(args[5]), xml, StandardCharsets.UTF_8);

        HttpRequest req = HttpRequest.newBuilder(URI.create(args[3].replaceAll("/+$", "") + "/v1/invoices"))
            .header("Authorization", "Bearer " + args[4])
            .header("Content-Type", "application/xml")
            .POST(HttpRequest.BodyPublishers.ofString(xml, StandardCharsets.UTF_8))
            .build();
        HttpResponse<String> res = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        System.out.println(res.statusCode());
        System.out.println(res.body());
        System.exit(res.statusCode() == 201 || res.statusCode() == 200 ? 0 : 1);
    }
}
